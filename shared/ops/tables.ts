import type { Knex } from 'knex'
import { schemaName } from '../db/database.ts'

/** A service schema of the namespace. */
export interface ServiceSchema {
  service: string
  schema: string
}

/**
 * The services of `names` whose schema in the namespace has `table`. Every service keeps its tables
 * in its own schema of the one database (architecture.md), so an operator's tool reads them all
 * from one connection.
 */
export async function schemasWithTable(db: Knex, namespace: string, services: string[], table: string): Promise<ServiceSchema[]> {
  const found: ServiceSchema[] = []
  for (const service of services) {
    const schema = schemaName(namespace, service)
    if (await hasTable(db, schema, table)) found.push({ service, schema })
  }
  return found
}

export async function hasTable(db: Knex, schema: string, table: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [`"${schema}".${table}`])
  return Boolean(rows[0]?.t)
}
