import { PgBoss } from 'pg-boss'
import { BulkJobSystem, type BenchJob, type JobToEnqueue, type OnJobStarted } from './jobs-system.ts'

const QUEUE = 'bench'

/**
 * pg-boss 12 in a schema of its own, tuned for throughput as its docs advise: batch fetches
 * (`batchSize`) with several workers (`localConcurrency`), fetching back to back while batches come back
 * full (`burstWhenBatchFull`), and LISTEN/NOTIFY so a created job wakes the workers. A delayed job sends
 * no NOTIFY when it falls due, so only the poll finds it: the poll is the shortest pg-boss allows (0.5 s)
 * in both of its modes (with NOTIFY on, `notifyPollingIntervalSeconds` applies, 30 s by default, which
 * made delayed jobs 29 s late in a trial). Jobs are added with `insert()` (its bulk API).
 * A job is completed after its handler returned: at least once.
 */
export class PgBossSystem extends BulkJobSystem {
  private readonly boss: PgBoss
  private workerId?: string

  constructor(
    databaseUrl: string,
    private readonly schema: string,
    applicationName: string,
    private readonly options = { batchSize: 100, localConcurrency: 4, pollingIntervalSeconds: 0.5, poolSize: 10 }
  ) {
    super({
      label: 'pg-boss 12',
      durable: true,
      guarantees: 'at least once (handler, then a separate complete)',
      settings: { ...options, notifyPollingIntervalSeconds: options.pollingIntervalSeconds, burstWhenBatchFull: true, useListenNotify: true, queueNotify: true }
    })
    this.boss = new PgBoss({
      connectionString: databaseUrl,
      schema,
      application_name: applicationName,
      max: options.poolSize,
      useListenNotify: true,
      // no cron, no instance registry: nothing but the queue competes for the database during a measurement
      schedule: false,
      registerInstance: false
    })
    this.boss.on('error', (err: Error) => console.error(`pg-boss: ${err.message}`))
  }

  async setup(): Promise<void> {
    await this.boss.start()
    await this.boss.createQueue(QUEUE, { notify: true })
  }

  async startWorkers(onStarted: OnJobStarted): Promise<void> {
    const { batchSize, localConcurrency, pollingIntervalSeconds } = this.options
    this.workerId = await this.boss.work<BenchJob>(
      QUEUE,
      { batchSize, localConcurrency, pollingIntervalSeconds, notifyPollingIntervalSeconds: pollingIntervalSeconds, burstWhenBatchFull: true },
      async (jobs) => {
        for (const job of jobs) onStarted(job.data)
      }
    )
  }

  async stopWorkers(): Promise<void> {
    if (!this.workerId) return
    await this.boss.offWork(QUEUE, { wait: true })
    this.workerId = undefined
  }

  protected async addBulk(jobs: JobToEnqueue[]): Promise<void> {
    await this.boss.insert(QUEUE, jobs.map(({ tag, seq, dueAt }) => ({ data: { tag, seq }, ...(dueAt === undefined ? {} : { startAfter: new Date(dueAt) }) })))
  }

  protected async release(): Promise<void> {
    await this.boss.stop({ graceful: false, close: true, timeout: 5_000 })
  }
}
