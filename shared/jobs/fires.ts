import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { ident } from '../bus/sql.ts'
import { dueTimesToFire, MAX_FIRES_PER_PASS, nextDueAfterPass } from './catch-up.ts'
import { nextDueAfter } from './next-due.ts'
import { cadenceOf, databaseNow, type ScheduleRow } from './schedule-rows.ts'
import { signalJobsWritten } from './signal.ts'
import type { CatchUpPolicy } from './types.ts'

/** Schedules one pass handles at most (the rest wait for the next pass, moments later). */
const SCHEDULES_PER_PASS = 100

/**
 * Fires every due, unpaused schedule, each fire in the same transaction as its
 * job: the schedule row is locked (SKIP LOCKED: another runner firing it is
 * left to it), a `schedule_fires (schedule, due_at)` row is inserted ON
 * CONFLICT DO NOTHING (a due time fires once whoever fires it, whatever
 * restarts), and the job is inserted. Overlap is judged from the schedule's
 * unfinished jobs, catch-up from how old each missed due time is.
 * Returns how many jobs it queued.
 */
export async function fireDueSchedules(db: Knex, schema: string, graceMs: number): Promise<number> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: ScheduleRow[] }>(
      `select * from ${ident(schema)}.schedules where not paused and next_due_at <= clock_timestamp()
       order by next_due_at limit ? for update skip locked`,
      [SCHEDULES_PER_PASS]
    )
    if (!rows.length) return 0
    const now = await databaseNow(trx)
    let queued = 0
    for (const row of rows) queued += await fireOne(trx, schema, row, now, graceMs)
    if (queued) await signalJobsWritten(trx, schema)
    return queued
  })
}

async function fireOne(trx: Knex.Transaction, schema: string, row: ScheduleRow, now: Date, graceMs: number): Promise<number> {
  const cadence = cadenceOf(row)
  const firstDue = row.next_due_at!
  const policy: CatchUpPolicy = row.catch_up === 'within' ? { allWithinMs: Number(row.catch_up_within_ms) } : row.catch_up
  const dueTimes = dueTimesToFire(cadence, firstDue, now, policy, graceMs)
  let unfinished = await unfinishedJobs(trx, schema, row.name)
  let queued = 0
  for (const dueAt of dueTimes) {
    const overlapping = row.overlap === 'skip' ? unfinished > 0 : row.overlap === 'queue-one' ? unfinished > 1 : false
    const jobId = overlapping ? null : randomUUID()
    const { rows: inserted } = await trx.raw<{ rows: unknown[] }>(
      `insert into ${ident(schema)}.schedule_fires (schedule, due_at, job_id, outcome) values (?, ?, ?, ?)
       on conflict (schedule, due_at) do nothing returning due_at`,
      [row.name, dueAt.toISOString(), jobId, overlapping ? 'skipped-overlap' : 'queued']
    )
    if (!inserted.length || !jobId) continue // fired before (a runner that died after committing), or skipped
    await trx.raw(
      `insert into ${ident(schema)}.jobs (id, name, payload, run_at, due_at, schedule_name) values (?, ?, ?::jsonb, ?, ?, ?)`,
      [jobId, row.job, JSON.stringify(row.payload ?? {}), dueAt.toISOString(), dueAt.toISOString(), row.name]
    )
    unfinished += 1
    queued += 1
  }
  const last = dueTimes[dueTimes.length - 1]
  // a pass that fired its maximum leaves the rest to the next pass, right after the last it fired
  const next = last && dueTimes.length >= MAX_FIRES_PER_PASS ? nextDueAfter(cadence, last, 'intervalMs' in cadence ? last : undefined) : nextDueAfterPass(cadence, firstDue, now)
  await trx.raw(`update ${ident(schema)}.schedules set next_due_at = ?, last_fire_at = coalesce(?, last_fire_at) where name = ?`, [
    next?.toISOString() ?? null,
    last?.toISOString() ?? null,
    row.name
  ])
  return queued
}

async function unfinishedJobs(trx: Knex.Transaction, schema: string, scheduleName: string): Promise<number> {
  const { rows } = await trx.raw<{ rows: Array<{ n: number }> }>(
    `select count(*)::int as n from ${ident(schema)}.jobs where schedule_name = ? and state = 'pending'`,
    [scheduleName]
  )
  return rows[0]!.n
}

/** Queues a schedule's job now, outside its cadence (overlap and catch-up do not apply). Returns the job id. */
export async function triggerSchedule(db: Knex, schema: string, row: ScheduleRow): Promise<string> {
  const jobId = randomUUID()
  await db.transaction(async (trx) => {
    const now = await databaseNow(trx)
    await trx.raw(`insert into ${ident(schema)}.schedule_fires (schedule, due_at, job_id, outcome) values (?, ?, ?, 'triggered') on conflict do nothing`, [
      row.name,
      now.toISOString(),
      jobId
    ])
    await trx.raw(
      `insert into ${ident(schema)}.jobs (id, name, payload, run_at, due_at, schedule_name) values (?, ?, ?::jsonb, clock_timestamp(), clock_timestamp(), ?)`,
      [jobId, row.job, JSON.stringify(row.payload ?? {}), row.name]
    )
    await signalJobsWritten(trx, schema)
  })
  return jobId
}
