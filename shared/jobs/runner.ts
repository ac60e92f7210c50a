import type { Knex } from 'knex'
import { PgListener } from '../db/listener.ts'
import type { Logger } from '../log/logger.ts'
import { connectionOf } from '../bus/sql.ts'
import { runBatch, type BatchSettings, type Outcome } from './batch.ts'
import { jobStatements } from './claim-sql.ts'
import type { DefinedJob } from './definitions.ts'
import { fireDueSchedules } from './fires.ts'
import { sweepFinishedJobs } from './retention.ts'
import { CANCEL_PREFIX, jobsChannel, onJobsWritten } from './signal.ts'
import { Sleeper } from './sleeper.ts'
import { DatabaseClock, localNow } from './clock.ts'

export interface RunnerSettings extends BatchSettings {
  databaseUrl: string
  /** batches in flight at once, each in its own transaction on its own connection */
  concurrency: number
  /** the slow fallback poll, for a NOTIFY lost while the listener reconnected */
  safetyPollMs: number
  /** a due time older than this when fired counts as missed (the catch-up policy applies) */
  catchUpGraceMs: number
  /** wait after a failed batch or pass (database away) */
  retryDelayMs: number
  /** finished records (done, failed, cancelled) older than this are swept (JOBS_RETENTION) */
  retentionMs: number
  /** the planner sweeps them at most this often, in small batches (retention.ts) */
  sweepEveryMs: number
}

/**
 * Runs a schema's due jobs and fires its schedules. `concurrency` workers
 * claim and run batches; when there is nothing to claim they wait on the
 * sleeper. The planner asks the database how long until the next unclaimed
 * row and the next schedule fire, wakes the workers `lookaheadMs` before it
 * (their claim takes rows that early and runs them when due) and fires due
 * schedules. Both wake on NOTIFY `<schema>_jobs`, on commits in this process,
 * and at the safety poll.
 */
export class JobRunner {
  private readonly workersSleeper = new Sleeper()
  private readonly plannerSleeper = new Sleeper()
  private readonly listener: PgListener
  private loops: Promise<void>[] = []
  /** jobs cancelled (NOTIFY `cancel:<id>`) that a batch may hold, claimed and waiting for their due time */
  private readonly cancelled = new Set<string>()
  /** to time claimed rows' due times without asking again (clock.ts); read by the planner at each pass */
  private readonly clock = new DatabaseClock()
  private stopped = true
  /** when the planner last swept finished records (localNow()); -Infinity: at its first pass */
  private sweptAt = -Infinity
  private unregister?: () => void

  constructor(
    private readonly db: Knex,
    private readonly jobs: Map<string, DefinedJob>,
    private readonly settings: RunnerSettings,
    private readonly report: (outcomes: Outcome[], committedAt: number) => void,
    private readonly logger?: Logger
  ) {
    this.listener = new PgListener({
      databaseUrl: settings.databaseUrl,
      channel: jobsChannel(settings.schema),
      onNotification: (payload) => {
        if (payload.startsWith(CANCEL_PREFIX)) this.rememberCancel(payload.slice(CANCEL_PREFIX.length))
        else this.wake()
      },
      // a notification sent while not listening is lost: look again
      onListening: () => this.wake(),
      logger
    })
  }

  async start(): Promise<void> {
    this.stopped = false
    this.unregister = onJobsWritten(this.settings.schema, () => this.wake())
    await this.listener.start()
    await this.readClock()
    this.loops = [this.plan(), ...Array.from({ length: this.settings.concurrency }, () => this.work())]
  }

  /** Stops claiming; waits for batches in flight to commit. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unregister?.()
    this.wake()
    await Promise.all(this.loops)
    await this.listener.stop()
  }

  wake(): void {
    this.workersSleeper.wake()
    this.plannerSleeper.wake()
  }

  private rememberCancel(id: string): void {
    this.cancelled.add(id)
    // ids of jobs some other runner held are never taken out by a batch here: keep the newest only
    if (this.cancelled.size > 10_000) this.cancelled.delete(this.cancelled.values().next().value!)
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      this.workersSleeper.clear()
      let claimed = 0
      try {
        const { claimed: n, outcomes } = await runBatch(this.db, this.jobs, this.settings, this.cancelled, this.clock)
        claimed = n
        for (const outcome of outcomes) this.cancelled.delete(outcome.job.id)
        if (outcomes.length) this.report(outcomes, localNow())
        // a retry moved a row's due time: the planner's timer may be later than it now
        if (outcomes.some((o) => o.kind === 'failed' && o.willRetry)) this.plannerSleeper.wake()
      } catch (err) {
        if (this.stopped) return
        this.logger?.warn({ err: (err as Error).message, schema: this.settings.schema }, 'job batch failed; retrying')
        await this.workersSleeper.sleep(this.settings.retryDelayMs)
        continue
      }
      if (claimed > 0) continue // more may be due: claim again at once
      // nothing to claim: the planner says when (or a NOTIFY does)
      await this.workersSleeper.sleep(this.settings.safetyPollMs)
    }
  }

  private async plan(): Promise<void> {
    while (!this.stopped) {
      this.plannerSleeper.clear()
      let delay: number
      try {
        await fireDueSchedules(this.db, this.settings.schema, this.settings.catchUpGraceMs)
        await this.sweepIfDue()
        const { jobMs, scheduleMs } = await this.nextDue()
        if (jobMs !== null && jobMs <= this.settings.lookaheadMs) this.workersSleeper.wake()
        const untilJobs = jobMs === null ? Infinity : Math.max(jobMs - this.settings.lookaheadMs, 0)
        const untilSchedules = scheduleMs === null ? Infinity : Math.max(scheduleMs, 0)
        delay = Math.min(untilJobs, untilSchedules, this.settings.safetyPollMs)
        // rows just handed to the workers: give them the look-ahead to claim before asking again
        if (delay === 0 && untilSchedules > 0) delay = Math.min(this.settings.lookaheadMs, this.settings.safetyPollMs)
      } catch (err) {
        if (this.stopped) return
        this.logger?.warn({ err: (err as Error).message, schema: this.settings.schema }, 'job planning failed; retrying')
        delay = this.settings.retryDelayMs
      }
      if (!this.stopped) await this.plannerSleeper.sleep(delay)
    }
  }

  /** At most once per sweepEveryMs; a failed sweep is only logged (it is tried again next time). */
  private async sweepIfDue(): Promise<void> {
    if (localNow() - this.sweptAt < this.settings.sweepEveryMs) return
    this.sweptAt = localNow()
    try {
      const removed = await sweepFinishedJobs(this.db, this.settings.schema, this.settings.retentionMs)
      if (removed) this.logger?.info({ schema: this.settings.schema, removed }, 'swept finished jobs past their retention')
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message, schema: this.settings.schema }, 'sweeping finished jobs failed')
    }
  }

  /** A few readings at start: the one with the shortest round trip is kept. */
  private async readClock(): Promise<void> {
    await this.db.transaction(async (trx) => {
      const client = await connectionOf(trx)
      for (let i = 0; i < 3; i++) await this.clock.read(client)
    }).catch((err) => this.logger?.warn({ err: (err as Error).message }, 'reading the database clock failed'))
  }

  private async nextDue(): Promise<{ jobMs: number | null; scheduleMs: number | null }> {
    const statement = jobStatements(this.settings.schema).nextDue
    return this.db.transaction(async (trx) => {
      const client = await connectionOf(trx)
      await this.clock.read(client)
      const { rows } = await client.query<{ job_ms: string | null; schedule_ms: string | null }>({ ...statement, values: [[...this.jobs.keys()]] })
      const row = rows[0]!
      return { jobMs: row.job_ms === null ? null : Number(row.job_ms), scheduleMs: row.schedule_ms === null ? null : Number(row.schedule_ms) }
    })
  }
}
