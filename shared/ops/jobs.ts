import type { Knex } from 'knex'
import type { ServiceSchema } from './tables.ts'

/** A job due for longer than this counts as late (a runner claims due rows within milliseconds). */
export const LATE_AFTER_MS = 5_000

export interface JobCounts extends ServiceSchema {
  /** pending and due now */
  due: number
  /** due for more than LATE_AFTER_MS */
  late: number
  failed: number
  /** due_at of the oldest due job */
  oldestDueAt?: string
}

/** Due, late and failed jobs of each schema with jobs tables (shared/jobs). */
export async function jobCounts(db: Knex, schemas: ServiceSchema[]): Promise<JobCounts[]> {
  const result: JobCounts[] = []
  for (const s of schemas) {
    const { rows: [row] } = await db.raw<{ rows: Array<{ due: number; late: number; failed: number; oldest: Date | null }> }>(
      `select
         count(*) filter (where state = 'pending' and run_at <= clock_timestamp())::int as due,
         count(*) filter (where state = 'pending' and run_at <= clock_timestamp() - ? * interval '1 millisecond')::int as late,
         count(*) filter (where state = 'failed')::int as failed,
         min(run_at) filter (where state = 'pending' and run_at <= clock_timestamp()) as oldest
       from ??.jobs where state in ('pending', 'failed')`,
      [LATE_AFTER_MS, s.schema]
    )
    result.push({ ...s, due: row!.due, late: row!.late, failed: row!.failed, oldestDueAt: row!.oldest ? new Date(row!.oldest).toISOString() : undefined })
  }
  return result
}

export interface ScheduleCounts extends ServiceSchema {
  schedules: number
  paused: number
  /** next_due_at of the soonest schedule that is not paused */
  nextDueAt?: string
}

/** Recurring schedules of each schema with jobs tables: how many, how many paused, the next due. */
export async function scheduleCounts(db: Knex, schemas: ServiceSchema[]): Promise<ScheduleCounts[]> {
  const result: ScheduleCounts[] = []
  for (const s of schemas) {
    const { rows: [row] } = await db.raw<{ rows: Array<{ n: number; paused: number; next: Date | null }> }>(
      `select count(*)::int as n, count(*) filter (where paused)::int as paused, min(next_due_at) filter (where not paused) as next from ??.schedules`,
      [s.schema]
    )
    result.push({ ...s, schedules: row!.n, paused: row!.paused, nextDueAt: row!.next ? new Date(row!.next).toISOString() : undefined })
  }
  return result
}
