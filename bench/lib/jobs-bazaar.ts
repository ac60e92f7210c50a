import { Type } from '@feathersjs/typebox'
import { createKnex, type Knex } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { DEFAULT_RUNNER_SETTINGS, Jobs, jobMigrations, type FiredJob } from '../../shared/jobs/index.ts'
import { percentile } from './stats.ts'
import { BulkJobSystem, type BenchJob, type JobToEnqueue, type OnJobStarted } from './jobs-system.ts'

const JOB = 'bench'

/** p50 / p99 / max, rounded to 0.1 ms */
function spread(values: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  values.sort((a, b) => a - b)
  const r = (v: number) => Math.round(v * 10) / 10
  return { p50Ms: r(percentile(values, 50)), p99Ms: r(percentile(values, 99)), maxMs: r(values.at(-1) ?? NaN) }
}
const payload = Type.Object({ tag: Type.String(), seq: Type.Integer() }, { additionalProperties: false })

/**
 * Bazaar's shared/jobs without Feathers: the `Jobs` a service's createServiceApp makes (the service's pool
 * of 10, the runner on a pool of its own), with its default runner settings, in a schema of its own with
 * the service tables' migrations. Every guarantee is on: a batch of jobs is claimed, run and marked done
 * in one durable transaction (synchronous_commit as the server has it), so a job's effects and its
 * completion commit together. Jobs are scheduled with `scheduleMany()` (its bulk call: one INSERT and one
 * NOTIFY for `bulkSize` jobs), one call after another, as the peers' addJobs / insert / addBulk are.
 * `runner` overrides the runner settings (BENCH_JOBS_BAZAAR_RUNNER, for trying other defaults). `fired` (emitted after the commit) gives the runner's own lateness to the
 * handler's start and to the commit, on the database's clock: the probe reports them.
 */
export class BazaarSystem extends BulkJobSystem {
  private readonly db: Knex
  private readonly jobs: Jobs
  private onStarted: OnJobStarted = () => {}
  private fired: FiredJob[] = []

  constructor(databaseUrl: string, private readonly schema: string, runner: Partial<typeof DEFAULT_RUNNER_SETTINGS> = {}) {
    super({
      label: 'Bazaar shared/jobs',
      durable: true,
      guarantees: 'exactly once in effect (handler and completion in one transaction)',
      settings: { ...DEFAULT_RUNNER_SETTINGS, ...runner, servicePool: 10, enqueue: 'scheduleMany' }
    })
    this.db = createKnex(databaseUrl, schema)
    this.jobs = new Jobs({ db: this.db, databaseUrl, schema, runner })
    this.jobs.define(JOB, { payload, handler: async (job) => this.onStarted(job.payload as BenchJob) })
    this.jobs.on('fired', (job) => this.fired.push(job))
  }

  async setup(): Promise<void> {
    await migrate(this.db, this.schema, jobMigrations)
  }

  async startWorkers(onStarted: OnJobStarted): Promise<void> {
    this.onStarted = onStarted
    await this.jobs.start()
  }

  async stopWorkers(): Promise<void> {
    await this.jobs.stop()
  }

  protected async addBulk(jobs: JobToEnqueue[]): Promise<void> {
    await this.jobs.scheduleMany(this.db, JOB, jobs.map(({ tag, seq, dueAt }) => ({ payload: { tag, seq }, ...(dueAt === undefined ? {} : { runAt: new Date(dueAt) }) })))
  }

  readonly probe = {
    begin: () => {
      this.fired = []
    },
    /**
     * p50 / p99 / max of the runner's lateness to the handler's start and to its batch's commit (ms, the
     * database's clock) over the run's jobs: `fired` comes after the commit, so it waits for the last ones.
     */
    end: async (tag: string, n: number) => {
      const ofRun = () => this.fired.filter((f) => (f.payload as BenchJob).tag === tag)
      const until = Date.now() + 5_000
      while (ofRun().length < n && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
      const fired = ofRun()
      this.fired = []
      return { firedEvents: fired.length, runnerLateness: spread(fired.map((f) => f.latenessMs)), committedLateness: spread(fired.map((f) => f.committedLatenessMs)) }
    }
  }

  protected async release(): Promise<void> {
    await this.db.destroy()
  }
}
