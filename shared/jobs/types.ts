import type { Static, TSchema } from '@feathersjs/typebox'
import type { Knex } from 'knex'

/** What a handler is told about the job it runs. */
export interface JobContext<P> {
  id: string
  name: string
  key: string | null
  payload: P
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number
  /** when the job was first due (a retry keeps it) */
  dueAt: Date
  scheduleName: string | null
}

/** What `fired` tells: the job, how late its handler started, and how late its transaction committed. */
export type FiredJob = JobContext<unknown> & { latenessMs: number; committedLatenessMs: number }

export interface JobDefinition<S extends TSchema> {
  /** a payload that fails it is refused by schedule(); a stored row that fails it is marked failed with the reason */
  payload: S
  /** runs in the claiming transaction: its writes, its outbox rows and the job's completion commit together */
  handler: (job: JobContext<Static<S>>, trx: Knex.Transaction) => Promise<void>
  /** delays before the 2nd, 3rd, ... attempt; after the last the job is failed. Default [1_000, 10_000, 60_000] */
  retry?: { delaysMs: number[] }
}

/** An absolute time, or a delay counted from the database clock. */
export type RunAt = Date | { delayMs: number }

export interface ScheduleJobOptions<P> {
  /** unique among the name's pending jobs; default none (no dedupe) */
  key?: string
  /** default: now */
  runAt?: RunAt
  payload: P
  /** a pending job with the same key: 'refuse' (JobError DUPLICATE_KEY, the default), 'keep' it, or 'replace' its payload and time */
  onConflict?: 'replace' | 'keep' | 'refuse'
}

export type OverlapPolicy = 'skip' | 'queue-one' | 'allow'
export type CatchUpPolicy = 'skip' | 'once' | { allWithinMs: number }

export interface ScheduleDefinition {
  /** exactly one of cron and intervalMs */
  cron?: string
  intervalMs?: number
  /** IANA zone for cron, default 'UTC' */
  timeZone?: string
  /** the job each fire schedules (defined with define()) */
  job: string
  payload?: unknown
  /** a fire while the schedule's previous job is unfinished: skip it (default), queue at most one, or allow any */
  overlap?: OverlapPolicy
  /** due times missed while no runner ran: skip them, run once (default), or run all within a window */
  catchUp?: CatchUpPolicy
}
