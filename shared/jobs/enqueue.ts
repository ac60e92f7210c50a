import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { ident } from '../bus/sql.ts'
import { JobError } from './errors.ts'
import { MAX_LOOKAHEAD_MS } from './claim-sql.ts'
import { CANCEL_PREFIX, jobsChannel, signalJobsWritten } from './signal.ts'
import type { RunAt, ScheduleJobOptions } from './types.ts'

/** `run_at` as SQL: an absolute time as given, a delay from the database clock. */
function runAtSql(runAt: RunAt | undefined): { sql: string; value: string | number } {
  if (runAt === undefined) return { sql: 'clock_timestamp() + ? * interval \'1 millisecond\'', value: 0 }
  if (runAt instanceof Date) {
    if (Number.isNaN(runAt.getTime())) throw new JobError('CONTRACT_VIOLATION', 'runAt is not a valid date')
    return { sql: '?::timestamptz', value: runAt.toISOString() }
  }
  if (!Number.isFinite(runAt.delayMs)) throw new JobError('CONTRACT_VIOLATION', `runAt.delayMs must be a number of milliseconds (got ${runAt.delayMs})`)
  return { sql: 'clock_timestamp() + ? * interval \'1 millisecond\'', value: Math.max(0, runAt.delayMs) }
}

/**
 * Inserts one job in the caller's transaction (it exists iff that commits).
 * A key already pending for the name is refused, kept or replaced, atomically
 * against concurrent writers (ON CONFLICT on the pending-key index).
 */
export async function insertJob<P>(
  db: Knex | Knex.Transaction,
  schema: string,
  name: string,
  options: ScheduleJobOptions<P> & { scheduleName?: string | null }
): Promise<{ id: string; created: boolean }> {
  const table = `${ident(schema)}.jobs`
  const at = runAtSql(options.runAt)
  const key = options.key ?? null
  const onConflict = options.onConflict ?? 'refuse'
  const values = [randomUUID(), name, key, JSON.stringify(options.payload ?? null), at.value, at.value, options.scheduleName ?? null]
  const insert = `insert into ${table} (id, name, key, payload, run_at, due_at, schedule_name) values (?, ?, ?, ?::jsonb, ${at.sql}, ${at.sql}, ?)`
  const conflictTarget = `on conflict (name, key) where state = 'pending' and key is not null`
  let row: { id: string; created: boolean } | undefined
  if (key !== null && onConflict === 'replace') {
    const { rows } = await db.raw<{ rows: Array<{ id: string; created: boolean }> }>(
      `${insert} ${conflictTarget} do update set payload = excluded.payload, run_at = excluded.run_at, due_at = excluded.due_at,
         attempts = 0, last_error = null returning id, (xmax = 0) as created`,
      values
    )
    row = rows[0]
  } else {
    const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(`${insert} ${key === null ? '' : `${conflictTarget} do nothing`} returning id`, values)
    if (rows[0]) row = { id: rows[0].id, created: true }
    else if (onConflict === 'refuse') throw new JobError('DUPLICATE_KEY', `a pending "${name}" job with key "${key}" already exists`)
    else {
      const existing = await db.raw<{ rows: Array<{ id: string }> }>(`select id from ${table} where name = ? and key = ? and state = 'pending'`, [name, key])
      // it finished between our insert and this read: schedule again (rare)
      if (!existing.rows[0]) return insertJob(db, schema, name, options)
      row = { id: existing.rows[0].id, created: false }
    }
  }
  if (row!.created || onConflict === 'replace') await signalJobsWritten(db, schema)
  return row!
}

/**
 * Cancels the pending job of that name and key: false when there is none
 * (never was, already ran or cancelled). A runner claims a job a little before
 * it is due and waits holding its row lock: such a job is not updated here
 * (that would wait for the runner to have run it) but recorded in
 * `job_cancels` and announced by NOTIFY, and the runner drops it instead of
 * running it. A cancel that commits before the due time wins.
 */
export type JobSelector = { name: string; key: string } | { id: string }

export async function cancelJob(db: Knex | Knex.Transaction, schema: string, which: JobSelector): Promise<boolean> {
  const jobs = `${ident(schema)}.jobs`
  const [where, bindings] = 'id' in which ? ['id = ?', [which.id]] : ['name = ? and key = ?', [which.name, which.key]]
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `with target as (select id from ${jobs} where ${where} and state = 'pending' for update skip locked)
     update ${jobs} j set state = 'cancelled', finished_at = clock_timestamp() from target where j.id = target.id returning j.id`,
    bindings
  )
  if (rows.length) return true
  const { rows: held } = await db.raw<{ rows: Array<{ id: string; claimable: boolean }> }>(
    `select id, run_at <= clock_timestamp() + ? * interval '1 millisecond' as claimable from ${jobs}
     where ${where} and state = 'pending' and run_at > clock_timestamp()`,
    [MAX_LOOKAHEAD_MS, ...bindings]
  )
  if (held[0] && !held[0].claimable) {
    // too far off for a runner to hold it: its lock is a planner's or claimer's glance, gone at once
    const { rowCount } = await db.raw<{ rowCount: number }>(
      `update ${jobs} set state = 'cancelled', finished_at = clock_timestamp() where id = ? and state = 'pending'`,
      [held[0].id]
    )
    return rowCount > 0
  }
  const id = held[0]?.id
  if (!id) return false // none, or due and running right now
  await db.raw(`insert into ${ident(schema)}.job_cancels (id) values (?) on conflict do nothing`, [id])
  await db.raw('select pg_notify(?, ?)', [jobsChannel(schema), `${CANCEL_PREFIX}${id}`])
  return true
}

/**
 * Makes a pending or failed job due now (an operator's retry of a failed one:
 * it gets one more attempt). Returns the state it had, or undefined when there is no such job.
 */
export async function runJobNow(db: Knex, schema: string, id: string): Promise<string | undefined> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ state: string }> }>(`select state from ${ident(schema)}.jobs where id = ? for update`, [id])
    const state = rows[0]?.state
    if (state !== 'pending' && state !== 'failed') return state
    await trx.raw(
      `update ${ident(schema)}.jobs set state = 'pending', run_at = clock_timestamp(), finished_at = null where id = ?`,
      [id]
    )
    await signalJobsWritten(trx, schema)
    return state
  })
}
