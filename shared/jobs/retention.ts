import type { Knex } from 'knex'
import { ident } from '../bus/sql.ts'

/** Rows removed per statement: small, so a sweep never holds many locks or a long transaction. */
export const SWEEP_BATCH = 1_000
/** At most this many statements per sweep; what is left waits for the next one (a minute later). */
export const SWEEP_MAX_BATCHES = 20

/**
 * Removes finished records older than `retentionMs`: done jobs (jobs_done) and the failed and
 * cancelled rows of `jobs`, in batches of SWEEP_BATCH, each its own statement. Returns how many
 * went. Pending rows are never touched, whatever their age.
 */
export async function sweepFinishedJobs(db: Knex, schema: string, retentionMs: number): Promise<number> {
  const tables = [
    { table: `${ident(schema)}.jobs_done`, finished: 'true' },
    // jobs_finished (tables.ts) is a partial index on exactly these rows
    { table: `${ident(schema)}.jobs`, finished: `state <> 'pending'` }
  ]
  let removed = 0
  for (const { table, finished } of tables) {
    for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
      const { rowCount } = await db.raw<{ rowCount: number }>(
        `delete from ${table} where ctid = any(array(
           select ctid from ${table} where ${finished} and finished_at < clock_timestamp() - ? * interval '1 millisecond' limit ${SWEEP_BATCH}))`,
        [retentionMs]
      )
      removed += rowCount ?? 0
      if ((rowCount ?? 0) < SWEEP_BATCH) break
    }
  }
  return removed
}
