import { ident, statementName } from '../bus/sql.ts'

/**
 * The runner's statements for one schema, prepared once per connection under
 * short names of their own (statementName). All times are the database's.
 */
export interface JobStatements {
  claim: { name: string; text: string }
  complete: { name: string; text: string }
  fail: { name: string; text: string }
  nextDue: { name: string; text: string }
  cancelsOf: { name: string; text: string }
  cancel: { name: string; text: string }
  forgetCancels: { name: string; text: string }
}

export interface ClaimedRow {
  id: string
  name: string
  key: string | null
  payload: unknown
  attempts: number
  due_at: Date
  schedule_name: string | null
  /** when the row is due, epoch milliseconds by the database clock (numeric, as text) */
  run_at_ms: string
}

/**
 * The furthest ahead of its due time a runner may claim a job (its look-ahead is capped at this):
 * cancelJob() knows that a job due later than this is not held by a waiting batch.
 */
export const MAX_LOOKAHEAD_MS = 5_000

const cache = new Map<string, JobStatements>()

export function jobStatements(schema: string): JobStatements {
  let statements = cache.get(schema)
  if (statements) return statements
  const jobs = `${ident(schema)}.jobs`
  statements = {
    // $1 names this runner handles, $2 look-ahead ms, $3 batch window ms, $4 batch size.
    // Rows due within the look-ahead are claimed before they are due and run when they are (the
    // runner waits inside the transaction, holding their locks), so a burst due at one instant
    // starts on time. The window keeps one batch's rows within a few ms of its first row, so
    // the batch commits soon after its rows were due rather than when its last one was.
    claim: {
      name: statementName('bazaar_jobs_claim', schema),
      text: `with head as (
          select run_at from ${jobs} where state = 'pending' and name = any($1::text[]) order by run_at limit 1 for update skip locked
        )
        select j.id, j.name, j.key, j.payload, j.attempts, j.due_at, j.schedule_name,
          extract(epoch from j.run_at) * 1000 as run_at_ms
        from ${jobs} j
        where j.state = 'pending' and j.name = any($1::text[])
          and j.run_at <= least(statement_timestamp() + $2 * interval '1 millisecond', (select run_at from head) + $3 * interval '1 millisecond')
        order by j.run_at
        limit $4
        for update of j skip locked`
    },
    complete: {
      name: statementName('bazaar_jobs_done', schema),
      // moved out of `jobs` into the append-only record (tables.ts, 012_jobs_done), in the batch's transaction
      text: `with done as (
          delete from ${jobs} where id = any($1::uuid[])
          returning id, name, key, payload, attempts, run_at, due_at, schedule_name, created_at
        )
        insert into ${ident(schema)}.jobs_done (id, name, key, payload, attempts, run_at, due_at, schedule_name, created_at, finished_at)
        select id, name, key, payload, attempts + 1, run_at, due_at, schedule_name, created_at, clock_timestamp() from done`
    },
    // $1 id, $2 error, $3 retry delay ms (null: no attempt left, the job is failed)
    fail: {
      name: statementName('bazaar_jobs_fail', schema),
      text: `update ${jobs} set attempts = attempts + 1, last_error = $2,
          state = case when $3::bigint is null then 'failed' else 'pending' end,
          run_at = case when $3::bigint is null then run_at else clock_timestamp() + $3::bigint * interval '1 millisecond' end,
          finished_at = case when $3::bigint is null then clock_timestamp() end
        where id = $1`
    },
    cancelsOf: {
      name: statementName('bazaar_jobs_cancels', schema),
      text: `select id from ${ident(schema)}.job_cancels where id = any($1::uuid[])`
    },
    cancel: {
      name: statementName('bazaar_jobs_cancel', schema),
      text: `update ${jobs} set state = 'cancelled', finished_at = clock_timestamp() where id = any($1::uuid[])`
    },
    forgetCancels: {
      name: statementName('bazaar_jobs_forget', schema),
      text: `delete from ${ident(schema)}.job_cancels where id = any($1::uuid[])`
    },
    // How long until the next row nobody has claimed yet, and the next schedule fire (null: none).
    // SKIP LOCKED passes over rows another runner holds, so a claimed burst does not look due for ever.
    nextDue: {
      name: statementName('bazaar_jobs_next', schema),
      text: `select
          (select extract(epoch from run_at - clock_timestamp()) * 1000 from ${jobs}
            where state = 'pending' and name = any($1::text[]) order by run_at limit 1 for update skip locked) as job_ms,
          (select extract(epoch from min(next_due_at) - clock_timestamp()) * 1000 from ${ident(schema)}.schedules where not paused) as schedule_ms`
    }
  }
  cache.set(schema, statements)
  return statements
}
