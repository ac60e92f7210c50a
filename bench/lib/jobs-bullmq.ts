import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { BulkJobSystem, wallNow, type BenchJob, type JobToEnqueue, type OnJobStarted } from './jobs-system.ts'

const QUEUE = 'bench'

/**
 * BullMQ 6 on the machine's Redis under a prefix of this run's own, as its docs advise for throughput:
 * one worker with a high concurrency factor (the docs' example is 50; 100 here, as the handler is
 * instantaneous), jobs added with `addBulk()`, finished jobs removed at once. A delayed job is added with
 * `delay` (ms from now, as BullMQ counts it). This Redis keeps nothing on disk (no AOF, no snapshots), so
 * it is the latency bar, not a durable peer.
 */
export class BullmqSystem extends BulkJobSystem {
  private readonly connection: Redis
  private readonly queue: Queue
  private worker?: Worker

  constructor(redisUrl: string, private readonly prefix: string, private readonly options = { concurrency: 100 }) {
    super({ label: 'BullMQ 6 (Redis, nothing on disk)', durable: false, guarantees: 'at least once, in memory only', settings: { ...options, removeOnComplete: true, prefix } })
    // BullMQ requires maxRetriesPerRequest: null on a connection its workers block on
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.queue = new Queue(QUEUE, { connection: this.connection, prefix })
  }

  async setup(): Promise<void> {
    await this.queue.waitUntilReady()
  }

  async startWorkers(onStarted: OnJobStarted): Promise<void> {
    this.worker = new Worker<BenchJob>(QUEUE, async (job) => onStarted(job.data), {
      connection: this.connection,
      prefix: this.prefix,
      concurrency: this.options.concurrency
    })
    this.worker.on('error', (err) => console.error(`bullmq worker: ${err.message}`))
    await this.worker.waitUntilReady()
  }

  async stopWorkers(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.close()
  }

  protected async addBulk(jobs: JobToEnqueue[]): Promise<void> {
    const now = wallNow()
    await this.queue.addBulk(
      jobs.map(({ tag, seq, dueAt }) => ({
        name: QUEUE,
        data: { tag, seq },
        opts: { removeOnComplete: true, ...(dueAt === undefined ? {} : { delay: Math.max(0, Math.round(dueAt - now)) }) }
      }))
    )
  }

  /** Removes the queue and every key under this run's prefix. */
  protected async release(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => {})
    await this.queue.close()
    let cursor = '0'
    do {
      const [next, keys] = await this.connection.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1_000)
      if (keys.length) await this.connection.del(...keys)
      cursor = next
    } while (cursor !== '0')
    this.connection.disconnect()
  }
}
