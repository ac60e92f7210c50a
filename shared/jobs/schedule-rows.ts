import type { Knex } from 'knex'
import { ident } from '../bus/sql.ts'
import { JobError } from './errors.ts'
import { checkCadence, nextDueAfter, type Cadence } from './next-due.ts'
import type { ScheduleDefinition } from './types.ts'

/** A schedules row as stored. */
export interface ScheduleRow {
  name: string
  job: string
  cron: string | null
  interval_ms: string | null
  time_zone: string
  payload: unknown
  overlap: 'skip' | 'queue-one' | 'allow'
  catch_up: 'skip' | 'once' | 'within'
  catch_up_within_ms: string | null
  paused: boolean
  next_due_at: Date | null
  last_fire_at: Date | null
}

export function cadenceOf(row: ScheduleRow): Cadence {
  return row.cron !== null ? { cron: row.cron, timeZone: row.time_zone } : { intervalMs: Number(row.interval_ms) }
}

/** Checks a schedule's definition (cadence, policies); a bad one is a JobError INVALID_SCHEDULE naming it. */
export function checkSchedule(name: string, definition: ScheduleDefinition): Cadence {
  const cadence = checkCadence(name, definition)
  if (definition.overlap !== undefined && !['skip', 'queue-one', 'allow'].includes(definition.overlap)) {
    throw new JobError('INVALID_SCHEDULE', `schedule "${name}": overlap must be skip, queue-one or allow (got "${definition.overlap}")`)
  }
  const catchUp = definition.catchUp
  if (catchUp !== undefined && catchUp !== 'skip' && catchUp !== 'once') {
    if (typeof catchUp !== 'object' || !Number.isFinite(catchUp.allWithinMs) || catchUp.allWithinMs < 0) {
      throw new JobError('INVALID_SCHEDULE', `schedule "${name}": catchUp must be skip, once or { allWithinMs }`)
    }
  }
  return cadence
}

export async function databaseNow(db: Knex | Knex.Transaction): Promise<Date> {
  const { rows } = await db.raw<{ rows: Array<{ now: Date }> }>('select clock_timestamp() as now')
  return rows[0]!.now
}

/**
 * Creates or updates a schedule row. Its pause state is kept, and so is its
 * next due time while the cadence is unchanged: a restart after downtime still
 * knows what it missed (the catch-up policy decides what to do about it).
 */
export async function upsertScheduleRow(db: Knex | Knex.Transaction, schema: string, name: string, definition: ScheduleDefinition): Promise<void> {
  const cadence = checkSchedule(name, definition)
  const next = nextDueAfter(cadence, await databaseNow(db))
  const catchUp = definition.catchUp ?? 'once'
  await db.raw(
    `insert into ${ident(schema)}.schedules as s (name, job, cron, interval_ms, time_zone, payload, overlap, catch_up, catch_up_within_ms, next_due_at)
     values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)
     on conflict (name) do update set
       job = excluded.job, payload = excluded.payload, overlap = excluded.overlap,
       catch_up = excluded.catch_up, catch_up_within_ms = excluded.catch_up_within_ms,
       next_due_at = case
         when s.cron is not distinct from excluded.cron and s.interval_ms is not distinct from excluded.interval_ms
           and s.time_zone = excluded.time_zone and s.next_due_at is not null then s.next_due_at
         else excluded.next_due_at end,
       cron = excluded.cron, interval_ms = excluded.interval_ms, time_zone = excluded.time_zone, updated_at = now()`,
    [
      name,
      definition.job,
      'cron' in cadence ? cadence.cron : null,
      'intervalMs' in cadence ? cadence.intervalMs : null,
      'cron' in cadence ? cadence.timeZone : 'UTC',
      JSON.stringify(definition.payload ?? {}),
      definition.overlap ?? 'skip',
      typeof catchUp === 'object' ? 'within' : catchUp,
      typeof catchUp === 'object' ? catchUp.allWithinMs : null,
      next?.toISOString() ?? null
    ]
  )
}

/** Pauses or resumes; a resumed schedule is next due after now (what fell in the pause is not caught up). */
export async function setPaused(db: Knex, schema: string, name: string, paused: boolean): Promise<void> {
  await db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: ScheduleRow[] }>(`select * from ${ident(schema)}.schedules where name = ? for update`, [name])
    const row = rows[0]
    if (!row) throw new JobError('UNKNOWN_SCHEDULE', `no schedule named "${name}"`)
    if (row.paused === paused) return
    const next = paused ? row.next_due_at : nextDueAfter(cadenceOf(row), await databaseNow(trx), row.cron === null ? row.next_due_at ?? undefined : undefined)
    await trx.raw(`update ${ident(schema)}.schedules set paused = ?, next_due_at = ?, updated_at = now() where name = ?`, [paused, next?.toISOString() ?? null, name])
  })
}

export async function scheduleRow(db: Knex | Knex.Transaction, schema: string, name: string): Promise<ScheduleRow> {
  const { rows } = await db.raw<{ rows: ScheduleRow[] }>(`select * from ${ident(schema)}.schedules where name = ?`, [name])
  if (!rows[0]) throw new JobError('UNKNOWN_SCHEDULE', `no schedule named "${name}"`)
  return rows[0]
}
