import type { Knex } from 'knex'
import { schemaName } from '../db/database.ts'
import { hasTable } from './tables.ts'

export interface OutboxBacklog {
  service: string
  schema: string
  /** rows not yet relayed; null when the service has no schema (or outbox) in this namespace */
  backlog: number | null
  /** created_at of the oldest row not yet relayed */
  oldestAt?: string
}

/**
 * Each service's outbox backlog: rows the relay has not published yet (the relay deletes a row once
 * its publish is confirmed).
 */
export async function outboxBacklogs(db: Knex, namespace: string, services: string[]): Promise<OutboxBacklog[]> {
  const result: OutboxBacklog[] = []
  for (const service of services) {
    const schema = schemaName(namespace, service)
    if (!(await hasTable(db, schema, 'outbox'))) {
      result.push({ service, schema, backlog: null })
      continue
    }
    const { rows: [row] } = await db.raw<{ rows: Array<{ n: string; oldest: Date | null }> }>(
      'select count(*) as n, min(created_at) as oldest from ??.outbox',
      [schema]
    )
    result.push({ service, schema, backlog: Number(row?.n ?? 0), oldestAt: row?.oldest ? new Date(row.oldest).toISOString() : undefined })
  }
  return result
}
