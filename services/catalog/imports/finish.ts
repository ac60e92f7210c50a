import type { Knex } from 'knex'
import type { AggregationRow } from '../../../shared/aggregation/aggregation.ts'
import { enqueueTask } from '../../../shared/bus/tasks.ts'
import { IMPORT_COMPLETED, IMPORT_PROGRESS, TASK_NOTIFICATIONS_SEND_EMAIL, type ImportProgress, type ImportStatus } from '../../../shared/contracts/index.ts'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { IMPORT_DEADLINE, outboxOf } from './identity.ts'

export interface ImportRecord {
  id: string
  sellerId: string
  sellerEmail: string | null
  status: ImportStatus
  total: number
  createdAt: Date
  completedAt: Date | null
}

const notice = (record: ImportRecord, counts: Pick<AggregationRow, 'done' | 'failed'>, status: ImportStatus): ImportProgress => ({
  importId: record.id,
  sellerId: record.sellerId,
  status,
  total: record.total,
  done: counts.done,
  failed: counts.failed
})

/** A progress notice, in the transaction whose counts it reports (the aggregation's rate limit said it is due). */
export async function writeProgress(app: ServiceApp, trx: Knex.Transaction, record: ImportRecord, counts: AggregationRow): Promise<void> {
  await writeOutbox(trx, outboxOf(app), IMPORT_PROGRESS, notice(record, counts, 'running'))
}

/**
 * The import is complete, in the one transaction that completed its
 * aggregation (the last chunk counted, or the deadline): the status, the
 * import.completed notice and the seller's email commit together, once.
 */
export async function finishImport(app: ServiceApp, trx: Knex.Transaction, record: ImportRecord, counts: Pick<AggregationRow, 'done' | 'failed'>): Promise<void> {
  await trx.withSchema(app.get('schema')).table('imports').where({ id: record.id }).update({ status: 'completed', completedAt: trx.raw('clock_timestamp()') })
  await writeOutbox(trx, outboxOf(app), IMPORT_COMPLETED, notice(record, counts, 'completed'))
  // a token without an email (not one the users service signs) leaves nowhere to write to
  if (record.sellerEmail) await enqueueTask(trx, outboxOf(app), TASK_NOTIFICATIONS_SEND_EMAIL, {
    userId: record.sellerId,
    kind: 'import-completed',
    to: record.sellerEmail,
    subject: `Your product import is done: ${counts.done} of ${record.total} rows imported`,
    text:
      `Your import ${record.id} is complete: ${counts.done} rows imported, ${counts.failed} rejected.` +
      (counts.failed > 0 ? ` The rejected rows and why: GET /imports/${record.id}/errors` : ''),
    messageId: `<import-${record.id}@bazaar>`
  })
  await app.get('jobs').cancel(trx, IMPORT_DEADLINE, record.id)
}
