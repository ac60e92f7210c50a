import { EventEmitter } from 'node:events'
import type { TSchema } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { createKnex } from '../db/database.ts'
import type { Logger } from '../log/logger.ts'
import type { Outcome } from './batch.ts'
import { MAX_LOOKAHEAD_MS } from './claim-sql.ts'
import { defineJob, payloadProblem, type DefinedJob } from './definitions.ts'
import { cancelJob, insertJob } from './enqueue.ts'
import { insertJobs, type ManyJob, type OnConflict, type Scheduled } from './enqueue-many.ts'
import { JobError } from './errors.ts'
import { triggerSchedule } from './fires.ts'
import { JobRunner, type RunnerSettings } from './runner.ts'
import { checkSchedule, scheduleRow, setPaused, upsertScheduleRow } from './schedule-rows.ts'
import type { FiredJob, JobContext, JobDefinition, ScheduleDefinition, ScheduleJobOptions } from './types.ts'

export interface JobsOptions {
  /** the service's pool: pause, resume and trigger write through it */
  db: Knex
  databaseUrl: string
  schema: string
  logger?: Logger
  /** runner tuning; the defaults suit thousands of jobs a second on a small machine */
  runner?: Partial<Omit<RunnerSettings, 'schema' | 'databaseUrl'>>
}

export const DEFAULT_RUNNER_SETTINGS = {
  concurrency: 4,
  batchSize: 2_500,
  lookaheadMs: 500,
  batchWindowMs: 50,
  safetyPollMs: 10_000,
  catchUpGraceMs: 10_000,
  retryDelayMs: 1_000,
  retentionMs: 7 * 86_400_000,
  sweepEveryMs: 60_000
}

type JobsEvents = {
  /** after the job's transaction committed */
  fired: [job: FiredJob]
  /** after each failed attempt committed; `willRetry` false when it was the last (the job is now failed) */
  failed: [job: JobContext<unknown> & { willRetry: boolean }, error: Error]
}

/**
 * Delayed jobs and recurring schedules of one service, in its own schema
 * (see docs/jobs.md). Define jobs and schedules at start; schedule and cancel
 * in the caller's transaction. createServiceApp makes one per app
 * (`app.get('jobs')`) and runs it when something was defined.
 */
export class Jobs extends EventEmitter<JobsEvents> {
  private readonly jobs = new Map<string, DefinedJob>()
  private readonly schedules = new Map<string, ScheduleDefinition>()
  private runner?: JobRunner
  private runnerDb?: Knex

  constructor(private readonly options: JobsOptions) {
    super()
  }

  /** Declares a job: its payload schema, its handler, its retries. */
  define<S extends TSchema>(name: string, definition: JobDefinition<S>): void {
    if (this.jobs.has(name)) throw new JobError('ALREADY_DEFINED', `job "${name}" is defined twice`)
    this.jobs.set(name, defineJob(name, definition as unknown as JobDefinition<TSchema>))
  }

  /**
   * Schedules a job in the caller's transaction (it exists iff that commits).
   * A payload that fails the job's schema is refused (JobError CONTRACT_VIOLATION).
   */
  async schedule<P>(trx: Knex.Transaction | Knex, name: string, options: ScheduleJobOptions<P>): Promise<{ id: string; created: boolean }> {
    const job = this.defined(name)
    const problem = payloadProblem(job, options.payload)
    if (problem) throw new JobError('CONTRACT_VIOLATION', problem)
    return insertJob(trx, this.options.schema, name, options)
  }

  /**
   * Schedules many jobs of one name with one INSERT (and one NOTIFY), in the caller's transaction, with
   * schedule()'s key semantics as if they were scheduled one after another (a key twice in the call too):
   * `onConflict` 'refuse' refuses the whole call, 'keep' keeps the first, 'replace' takes the last.
   * Results in the order of `jobs`. A payload that fails the schema refuses the call (CONTRACT_VIOLATION).
   */
  async scheduleMany<P>(trx: Knex.Transaction | Knex, name: string, jobs: ManyJob<P>[], options: { onConflict?: OnConflict } = {}): Promise<Scheduled[]> {
    const job = this.defined(name)
    jobs.forEach((one, i) => {
      const problem = payloadProblem(job, one.payload)
      if (problem) throw new JobError('CONTRACT_VIOLATION', `jobs[${i}]: ${problem}`)
    })
    return insertJobs(trx, this.options.schema, name, jobs, options.onConflict)
  }

  /** Cancels the pending job of that name and key: false when there is none. */
  async cancel(trx: Knex.Transaction | Knex, name: string, key: string): Promise<boolean> {
    return cancelJob(trx, this.options.schema, { name, key })
  }

  /** Declares a schedule at start (checked now); it is upserted when the app starts, its pause state kept. */
  defineSchedule(name: string, definition: ScheduleDefinition): void {
    checkSchedule(name, definition)
    if (this.schedules.has(name)) throw new JobError('ALREADY_DEFINED', `schedule "${name}" is defined twice`)
    this.schedules.set(name, definition)
  }

  /** Creates or changes a schedule at run time (e.g. one per time zone), in the caller's transaction. */
  async upsertSchedule(trx: Knex.Transaction | Knex, name: string, definition: ScheduleDefinition): Promise<void> {
    await upsertScheduleRow(trx, this.options.schema, name, definition)
    this.runner?.wake()
  }

  async pause(name: string): Promise<void> {
    await setPaused(this.options.db, this.options.schema, name, true)
  }

  async resume(name: string): Promise<void> {
    await setPaused(this.options.db, this.options.schema, name, false)
    this.runner?.wake()
  }

  /** Queues the schedule's job now, whatever its cadence; returns the job's id. */
  async trigger(name: string): Promise<string> {
    const row = await scheduleRow(this.options.db, this.options.schema, name)
    return triggerSchedule(this.options.db, this.options.schema, row)
  }

  /** Whether anything was defined: createServiceApp starts the runner only then. */
  get hasWork(): boolean {
    return this.jobs.size > 0 || this.schedules.size > 0
  }

  /** Upserts the declared schedules and starts the runner, on a small pool of its own. */
  async start(): Promise<void> {
    if (this.runner) return
    for (const [name, definition] of this.schedules) {
      if (!this.jobs.has(definition.job)) throw new JobError('UNKNOWN_JOB', `schedule "${name}" runs job "${definition.job}", which is not defined`)
      await upsertScheduleRow(this.options.db, this.options.schema, name, definition)
    }
    const settings: RunnerSettings = {
      ...DEFAULT_RUNNER_SETTINGS,
      ...this.options.runner,
      schema: this.options.schema,
      databaseUrl: this.options.databaseUrl
    }
    settings.lookaheadMs = Math.min(Math.max(settings.lookaheadMs, 0), MAX_LOOKAHEAD_MS)
    // one connection per worker and one for the planner, apart from the service's request traffic
    this.runnerDb = createKnex(this.options.databaseUrl, this.options.schema, { min: 0, max: settings.concurrency + 1 })
    this.runner = new JobRunner(this.runnerDb, this.jobs, settings, (outcomes, committedAt) => this.tell(outcomes, committedAt), this.options.logger)
    await this.runner.start()
  }

  /** Stops claiming and waits for the batches in flight. */
  async stop(): Promise<void> {
    const runner = this.runner
    this.runner = undefined
    await runner?.stop()
    await this.runnerDb?.destroy()
    this.runnerDb = undefined
  }

  private defined(name: string): DefinedJob {
    const job = this.jobs.get(name)
    if (!job) throw new JobError('UNKNOWN_JOB', `no job named "${name}" is defined`)
    return job
  }

  private tell(outcomes: Outcome[], committedAt: number): void {
    for (const outcome of outcomes) {
      try {
        if (outcome.kind === 'done') {
          const committedLatenessMs = outcome.latenessMs + (committedAt - outcome.startedAt)
          this.emit('fired', { ...outcome.job, latenessMs: outcome.latenessMs, committedLatenessMs })
        } else if (outcome.kind === 'failed') {
          this.emit('failed', { ...outcome.job, willRetry: outcome.willRetry }, outcome.error)
        }
      } catch (err) {
        this.options.logger?.warn({ err: (err as Error).message, job: outcome.job.id }, 'a jobs listener threw')
      }
    }
  }
}
