import type { Knex } from 'knex'
import { schemaName } from '../db/database.ts'
import { hasTable } from './tables.ts'

export interface ImportCounts {
  accepted: number
  running: number
  completed: number
  cancelled: number
  /** createdAt of the oldest import not finished */
  oldestOpenAt?: string
}

/** The catalog's bulk imports by status; undefined when the catalog has no imports table in the namespace. */
export async function importCounts(db: Knex, namespace: string): Promise<ImportCounts | undefined> {
  const schema = schemaName(namespace, 'catalog')
  if (!(await hasTable(db, schema, 'imports'))) return undefined
  const { rows: [row] } = await db.raw<{ rows: Array<Record<'accepted' | 'running' | 'completed' | 'cancelled', number> & { oldest: Date | null }> }>(
    `select
       count(*) filter (where status = 'accepted')::int as accepted,
       count(*) filter (where status = 'running')::int as running,
       count(*) filter (where status = 'completed')::int as completed,
       count(*) filter (where status = 'cancelled')::int as cancelled,
       min("createdAt") filter (where status in ('accepted', 'running')) as oldest
     from ??.imports`,
    [schema]
  )
  return { accepted: row!.accepted, running: row!.running, completed: row!.completed, cancelled: row!.cancelled, oldestOpenAt: row!.oldest ? new Date(row!.oldest).toISOString() : undefined }
}
