import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker'
import { BulkJobSystem, type BenchJob, type JobToEnqueue, type OnJobStarted } from './jobs-system.ts'

const TASK = 'bench'

/** graphile-worker logs every job at info level; the benchmark prints only its warnings and errors. */
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`)
})

/**
 * graphile-worker 0.18 in a schema of its own, with its docs' high-throughput settings (the "Performance"
 * page: 24 concurrent jobs, a pool of 25, a local queue of 500 jobs locked per fetch, completions batched
 * with `completeJobBatchDelay: 0`), jobs added with `addJobs()` (its bulk API). Its "batch jobs" (one job
 * whose payload is an array the task handles at once) would make 10,000 items fewer jobs, so they are not
 * used: every job is a job. A job is completed after its handler returned: at least once, and with the
 * batched completion a crash can leave finished jobs locked to run again later.
 */
export class GraphileSystem extends BulkJobSystem {
  private utils?: WorkerUtils
  private runner?: Runner

  constructor(
    private readonly databaseUrl: string,
    private readonly schema: string,
    private readonly options = { concurrency: 24, maxPoolSize: 25, localQueueSize: 500, completeJobBatchDelay: 0, pollInterval: 500 }
  ) {
    super({ label: 'graphile-worker 0.18', durable: true, guarantees: 'at least once (handler, then a batched complete)', settings: { ...options } })
  }

  async setup(): Promise<void> {
    this.utils = await makeWorkerUtils({ connectionString: this.databaseUrl, schema: this.schema, logger: quietLogger })
    await this.utils.migrate()
  }

  async startWorkers(onStarted: OnJobStarted): Promise<void> {
    const { concurrency, maxPoolSize, localQueueSize, completeJobBatchDelay, pollInterval } = this.options
    this.runner = await run({
      connectionString: this.databaseUrl,
      schema: this.schema,
      concurrency,
      maxPoolSize,
      pollInterval,
      noHandleSignals: true,
      logger: quietLogger,
      crontab: '',
      taskList: { [TASK]: async (payload) => onStarted(payload as BenchJob) },
      preset: { worker: { localQueue: { size: localQueueSize }, completeJobBatchDelay, failJobBatchDelay: completeJobBatchDelay } }
    })
  }

  async stopWorkers(): Promise<void> {
    const runner = this.runner
    this.runner = undefined
    await runner?.stop()
  }

  protected async addBulk(jobs: JobToEnqueue[]): Promise<void> {
    await this.utils!.addJobs(
      jobs.map(({ tag, seq, dueAt }) => ({ identifier: TASK, payload: { tag, seq }, ...(dueAt === undefined ? {} : { runAt: new Date(dueAt) }) }))
    )
  }

  protected async release(): Promise<void> {
    await this.utils?.release()
  }
}
