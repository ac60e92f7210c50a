import { redactUrl } from '../../shared/config/env.ts'
import { quietKnex } from './database.ts'

export interface OutboxBacklog {
  service: string
  schema: string
  /** rows not yet relayed; null when the service has no schema (or outbox) in this namespace */
  backlog: number | null
  /** created_at of the oldest row not yet relayed */
  oldestAt?: string
}

/**
 * Each service's outbox backlog: rows the relay has not published yet (the
 * relay deletes a row once its publish is confirmed). Throws one line when the
 * database cannot be reached.
 */
export async function outboxBacklogs(databaseUrl: string, namespace: string, services: string[]): Promise<OutboxBacklog[]> {
  // Loaded here, not at start: only `status` needs the database.
  const { schemaName } = await import('../../shared/db/database.ts')
  // quiet: the failure is reported below, once
  const db = await quietKnex(databaseUrl)
  try {
    const result: OutboxBacklog[] = []
    for (const service of services) {
      const schema = schemaName(namespace, service)
      const { rows } = await db.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [`"${schema}".outbox`])
      if (!rows[0]?.t) {
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
  } catch (err) {
    const cause = (err as { code?: string }).code ?? (err as Error).message
    throw new Error(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${cause}); start it or set DATABASE_URL`)
  } finally {
    await db.destroy()
  }
}
