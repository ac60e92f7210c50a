import type { Knex } from 'knex'

/**
 * Forgets what is past retention: events (but never the announcement of a
 * notice still active), receipts, and notices cancelled or over.
 */
export async function sweepHistory(db: Knex, schema: string, retentionMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionMs)
  const notices = `${schema}.maintenance_notices`
  const removed = await db(`${schema}.events`)
    .where('created_at', '<', cutoff)
    .whereNotIn('id', (q) => q.from(notices).whereNull('cancelled_at').where('ends_at', '>', new Date()).whereNotNull('event_id').select('event_id'))
    .delete()
  await db(`${schema}.receipts`).where('acked_at', '<', cutoff).delete()
  await db(notices).where('updated_at', '<', cutoff).where((q) => q.whereNotNull('cancelled_at').orWhere('ends_at', '<', cutoff)).delete()
  return removed
}
