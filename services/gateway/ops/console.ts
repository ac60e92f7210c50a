import type { Channel } from 'amqplib'
import type { Knex } from 'knex'
import type { Bus } from '../../../shared/bus/bus.ts'
import { emptyTopology } from '../../../shared/bus/topology.ts'
import { describeDeadLetter, passOverQueue, preview, resolveDeadLetterQueue, type DeadLetter } from '../../../shared/ops/dead-letters.ts'
import { importCounts, type ImportCounts } from '../../../shared/ops/imports.ts'
import { QueueInspector } from '../../../shared/ops/inspector.ts'
import { jobCounts, scheduleCounts, type JobCounts, type ScheduleCounts } from '../../../shared/ops/jobs.ts'
import { ManagementClient } from '../../../shared/ops/management.ts'
import { outboxBacklogs, type OutboxBacklog } from '../../../shared/ops/outbox.ts'
import { parkedCounts, type ParkedCounts } from '../../../shared/ops/parked.ts'
import { queueStatuses, type QueueStatus } from '../../../shared/ops/queue-status.ts'
import { groupQueues } from '../../../shared/ops/queues.ts'
import { replayDeadLetters, type ReplaySelection, type ReplaySummary } from '../../../shared/ops/replay.ts'
import { schemasWithTable } from '../../../shared/ops/tables.ts'
import { OpsError } from '../../../shared/ops/errors.ts'

/** What the page shows, refreshed over SSE. A part that could not be read is null, with its reason in `errors`. */
export interface OpsSnapshot {
  namespace: string
  at: string
  queues: QueueStatus[] | null
  outbox: OutboxBacklog[] | null
  jobs: JobCounts[] | null
  schedules: ScheduleCounts[] | null
  parked: ParkedCounts[] | null
  /** null too when the catalog has no imports table in this namespace */
  imports: ImportCounts | null
  errors: Record<string, string>
}

/** A dead letter as the console shows it: what `bazaar dlq show` says, and the payload up to a few kB. */
export interface ConsoleDeadLetter extends DeadLetter {
  payload: string
}

export interface OpsConsoleOptions {
  bus: Bus
  db: Knex
  namespace: string
  managementUrl: string
  /** the services whose schemas are read (outbox, jobs, schedules) */
  services: string[]
}

const PAYLOAD_CHARS = 4_000

/**
 * The console's reads and actions, on the gateway's own broker connection and database pool, with
 * the pieces `bazaar status` and `bazaar dlq` use (shared/ops). Everything runs one at a time: a
 * refresh never reads a dead-letter queue while a replay is passing over it (a message held by one
 * would be invisible to the other's count).
 */
export class OpsConsole {
  private readonly inspector: QueueInspector
  private readonly management: ManagementClient
  private turn: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: OpsConsoleOptions) {
    this.inspector = new QueueInspector(() => this.openChannel())
    this.management = new ManagementClient(options.managementUrl)
  }

  get namespace(): string {
    return this.options.namespace
  }

  snapshot(): Promise<OpsSnapshot> {
    return this.exclusive(async () => {
      const { db, namespace, services } = this.options
      const errors: Record<string, string> = {}
      const part = async <T>(name: string, read: () => Promise<T>): Promise<T | null> => {
        try {
          return await read()
        } catch (err) {
          errors[name] = (err as Error).message
          return null
        }
      }
      const queues = await part('queues', async () => {
        const onBroker = await this.management.queues(namespace)
        const groups = groupQueues(namespace, emptyTopology(), onBroker)
        // No peeks: a refresh every few seconds would count deliveries toward the queues' limits.
        return this.withChannel((peek) => queueStatuses(this.inspector, peek, groups, onBroker, { peekWork: false, peekDeadLetters: false }))
      })
      const outbox = await part('outbox', () => outboxBacklogs(db, namespace, services))
      const jobSchemas = await part('jobs', () => schemasWithTable(db, namespace, services, 'jobs'))
      const jobs = jobSchemas && (await part('jobs', () => jobCounts(db, jobSchemas)))
      const schedules = jobSchemas && (await part('schedules', () => scheduleCounts(db, jobSchemas)))
      const parked = await part('parked', () => parkedCounts(db, namespace))
      const imports = (await part('imports', () => importCounts(db, namespace))) ?? null
      return { namespace, at: new Date().toISOString(), queues, outbox, jobs, schedules, parked, imports, errors }
    })
  }

  /** The first `limit` messages of a dead-letter queue, read and put back in their order. */
  deadLetters(queue: string, limit: number): Promise<{ dlq: string; queue: string; depth: number; letters: ConsoleDeadLetter[] }> {
    return this.exclusive(async () => {
      const ref = await resolveDeadLetterQueue(this, queue)
      const letters: ConsoleDeadLetter[] = []
      let depth = 0
      await this.withChannel((channel) =>
        passOverQueue(
          channel,
          ref.dlq,
          async (message, position) => {
            letters.push({ ...describeDeadLetter(message, ref, position), payload: preview(message.content, PAYLOAD_CHARS) })
            return 'keep'
          },
          { limit, onStart: (total) => (depth = total) }
        )
      )
      return { ...ref, depth, letters }
    })
  }

  /** `bazaar dlq replay` from the page: same loop, same guarantees (shared/ops/replay.ts). */
  replay(queue: string, selection: ReplaySelection): Promise<ReplaySummary> {
    return this.exclusive(async () => {
      const ref = await resolveDeadLetterQueue(this, queue)
      return this.withChannel((channel) => replayDeadLetters(channel, ref, { ...selection, publisher: this.options.bus.publisher }))
    })
  }

  /**
   * Deletes every message of a dead-letter queue. `confirm` must name the dead-letter queue (the
   * page asks the operator to type it): a stray request purges nothing.
   */
  purge(queue: string, confirm: string): Promise<{ dlq: string; purged: number }> {
    return this.exclusive(async () => {
      const ref = await resolveDeadLetterQueue(this, queue)
      if (confirm !== ref.dlq && confirm !== ref.dlq.slice(this.namespace.length + 1)) {
        throw new OpsError(`confirm must name the dead-letter queue ${ref.dlq}; nothing was purged`, 400)
      }
      const { messageCount } = await this.withChannel((channel) => channel.purgeQueue(ref.dlq))
      return { dlq: ref.dlq, purged: messageCount }
    })
  }

  /** For resolveDeadLetterQueue: whether a queue exists. */
  inspect(queue: string) {
    return this.inspector.inspect(queue)
  }

  /** Resolves once nothing is running: the gateway waits for it before it closes its pool and connection. */
  async idle(): Promise<void> {
    await this.turn
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work)
    this.turn = run.catch(() => {})
    return run
  }

  private async openChannel(): Promise<Channel> {
    const channel = await (await this.options.bus.connection.channelModel()).createChannel()
    channel.on('error', () => {}) // e.g. 404 on a passive declare: the caller sees the rejected promise
    return channel
  }

  /** A channel for one operation, closed after it (which returns anything it still held to the queue). */
  private async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.openChannel()
    try {
      return await work(channel)
    } finally {
      await channel.close().catch(() => {})
    }
  }
}
