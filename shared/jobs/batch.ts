import type { Knex } from 'knex'
import type pg from 'pg'
import { connectionOf } from '../bus/sql.ts'
import { jobStatements, type ClaimedRow } from './claim-sql.ts'
import { DatabaseClock, localNow } from './clock.ts'
import { payloadProblem, type DefinedJob } from './definitions.ts'
import type { JobContext } from './types.ts'

export interface BatchSettings {
  schema: string
  lookaheadMs: number
  batchWindowMs: number
  batchSize: number
}

/** What happened to one claimed row, told after the batch committed. */
export type Outcome =
  | { kind: 'done'; job: JobContext<unknown>; latenessMs: number; startedAt: number }
  | { kind: 'failed'; job: JobContext<unknown>; error: Error; willRetry: boolean }
  | { kind: 'cancelled'; job: JobContext<unknown> }

export interface BatchResult {
  claimed: number
  outcomes: Outcome[]
}

const BATCH_SAVEPOINT = 'bazaar_jobs_batch'
const JOB_SAVEPOINT = 'bazaar_jobs_one'

/**
 * One batch, in ONE transaction: claim due rows (FOR UPDATE SKIP LOCKED), run
 * each handler with the transaction, mark them done or failed, commit. A
 * SIGKILL anywhere rolls all of it back, and the rows are at once claimable by
 * another runner: no lease to expire.
 *
 * Handlers first run without a savepoint each (a savepoint is a round trip,
 * which at thousands of jobs a second is most of the cost); if one throws, the
 * batch goes back to a savepoint taken after the claim (the row locks stay) and
 * runs again with a savepoint per job, so one failing handler undoes only itself.
 */
export async function runBatch(
  runnerDb: Knex,
  jobs: Map<string, DefinedJob>,
  settings: BatchSettings,
  /** ids cancelled while claimed and waiting (NOTIFY), see cancelJob() */
  cancelledMeanwhile: ReadonlySet<string>,
  clock: DatabaseClock
): Promise<BatchResult> {
  const statements = jobStatements(settings.schema)
  let result: BatchResult = { claimed: 0, outcomes: [] }
  await runnerDb.transaction(async (trx) => {
    const client = await connectionOf(trx)
    const { rows } = await client.query<ClaimedRow>({
      ...statements.claim,
      values: [[...jobs.keys()], settings.lookaheadMs, settings.batchWindowMs, settings.batchSize]
    })
    if (!rows.length) return
    // Before waiting for the due time, so that nothing but the handlers is left for then. Cancels recorded
    // while the rows were locked (by us or by anyone before us), and those announced while we wait (NOTIFY,
    // `cancelledMeanwhile`): see cancelJob(). Both statements go out together.
    const ids = rows.map((r) => r.id)
    // Awaited together: when the connection dies under them both reject, and a second rejection nobody
    // awaits would end the process (seen at a PostgreSQL failover in the cluster chaos run).
    const [recorded] = await Promise.all([
      client.query<{ id: string }>({ ...statements.cancelsOf, values: [ids] }),
      client.query(`savepoint ${BATCH_SAVEPOINT}`)
    ])
    const cancelled = new Set(recorded.rows.map((r) => r.id))
    const isCancelled = (id: string) => cancelled.has(id) || cancelledMeanwhile.has(id)
    const prepared = prepare(rows, jobs, clock)
    let outcomes = await runAll(prepared, trx, client, false, isCancelled)
    if (!outcomes) {
      await client.query(`rollback to savepoint ${BATCH_SAVEPOINT}`)
      outcomes = (await runAll(prepared, trx, client, true, isCancelled))!
    }
    const done = outcomes.filter((o) => o.kind === 'done').map((o) => o.job.id)
    if (done.length) await client.query({ ...statements.complete, values: [done] })
    const dropped = outcomes.filter((o) => o.kind === 'cancelled').map((o) => o.job.id)
    if (dropped.length) await client.query({ ...statements.cancel, values: [dropped] })
    if (cancelled.size || dropped.length) await client.query({ ...statements.forgetCancels, values: [ids] })
    for (const outcome of outcomes) {
      if (outcome.kind !== 'failed') continue
      const delay = outcome.willRetry ? retryDelay(jobs.get(outcome.job.name), outcome.job.attempt) : null
      await client.query({ ...statements.fail, values: [outcome.job.id, outcome.error.message.slice(0, 2_000), delay] })
    }
    result = { claimed: rows.length, outcomes }
  })
  return result
}

/** A claimed row made ready to run before its due time: its context built, its payload checked. */
interface Prepared {
  job: JobContext<unknown>
  defined: DefinedJob
  /** the stored payload fails the job's schema (retrying cannot help) */
  problem: string | null
  /** when it is due, on this process's clock (localNow()) */
  dueAt: number
}

/** Done while waiting for the due time, so that at the due time only the handlers are left to run. */
function prepare(rows: ClaimedRow[], jobs: Map<string, DefinedJob>, clock: DatabaseClock): Prepared[] {
  const claimedAt = localNow()
  return rows.map((row) => {
    const defined = jobs.get(row.name)!
    return {
      job: { id: row.id, name: row.name, key: row.key, payload: row.payload, attempt: row.attempts + 1, dueAt: row.due_at, scheduleName: row.schedule_name },
      defined,
      problem: payloadProblem(defined, row.payload),
      // without a reading of the database clock yet: run at once (the claim found it due within the look-ahead)
      dueAt: clock.localTimeOf(Number(row.run_at_ms)) ?? claimedAt
    }
  })
}

/**
 * Runs the prepared rows in due order, each when it is due. Without savepoints
 * (`careful` false) the first handler failure stops the batch: undefined.
 */
async function runAll(
  prepared: Prepared[],
  trx: Knex.Transaction,
  client: pg.Client,
  careful: boolean,
  isCancelled: (id: string) => boolean
): Promise<Outcome[] | undefined> {
  const outcomes: Outcome[] = []
  for (const { job, defined, problem, dueAt } of prepared) {
    if (problem) {
      outcomes.push({ kind: 'failed', job, error: new Error(problem), willRetry: false })
      continue
    }
    const remaining = dueAt - localNow()
    // never before its due time: a timer fires no earlier than asked
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining))
    if (isCancelled(job.id)) {
      outcomes.push({ kind: 'cancelled', job })
      continue
    }
    const startedAt = localNow()
    if (careful) await client.query(`savepoint ${JOB_SAVEPOINT}`)
    try {
      await defined.definition.handler(job, trx)
      if (careful) await client.query(`release savepoint ${JOB_SAVEPOINT}`)
      outcomes.push({ kind: 'done', job, latenessMs: startedAt - dueAt, startedAt })
    } catch (err) {
      if (!careful) return undefined
      await client.query(`rollback to savepoint ${JOB_SAVEPOINT}`)
      const error = err instanceof Error ? err : new Error(String(err))
      outcomes.push({ kind: 'failed', job, error, willRetry: job.attempt <= defined.retryDelaysMs.length })
    }
  }
  return outcomes
}

function retryDelay(job: DefinedJob | undefined, attempt: number): number | null {
  const delays = job?.retryDelaysMs ?? []
  return attempt <= delays.length ? delays[attempt - 1]! : null
}
