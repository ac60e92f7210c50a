import type { OutboxBacklog } from '../../shared/ops/outbox.ts'
import { withDatabase } from './database.ts'

export type { OutboxBacklog } from '../../shared/ops/outbox.ts'

/** Each service's outbox backlog (shared/ops/outbox.ts) on a CLI pool; one line when the database cannot be reached. */
export async function outboxBacklogs(databaseUrl: string, namespace: string, services: string[]): Promise<OutboxBacklog[]> {
  const shared = await import('../../shared/ops/outbox.ts')
  return withDatabase(databaseUrl, (db) => shared.outboxBacklogs(db, namespace, services))
}
