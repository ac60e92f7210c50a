import type { Knex } from 'knex'
import { ParkStore } from '../bus/park-store.ts'
import { schemaName } from '../db/database.ts'

export interface ParkedCounts {
  service: string
  keys: number
  messages: number
}

/** Parked keys of partitioned consumers and the messages waiting behind them, per service. */
export async function parkedCounts(db: Knex, namespace: string): Promise<ParkedCounts[]> {
  const prefix = schemaName(namespace, '')
  const { rows } = await db.raw<{ rows: Array<{ schema: string }> }>(
    "select table_schema as schema from information_schema.tables where table_name = 'parked_keys' and starts_with(table_schema, ?) order by 1",
    [prefix]
  )
  const result: ParkedCounts[] = []
  for (const { schema } of rows) {
    const keys = await new ParkStore({ db, schema }).list()
    if (keys.length) result.push({ service: schema.slice(prefix.length), keys: keys.length, messages: keys.reduce((n, k) => n + k.messages, 0) })
  }
  return result
}
