import type { Channel, ConsumeMessage } from 'amqplib'
import type { RoutingKey } from '../contracts/index.ts'
import { partitionKeyOf } from '../contracts/partition-keys.ts'
import type { Logger } from '../log/logger.ts'
import type { FailureRecord } from './dead-letter.ts'
import { toEnvelope, type DeliveryOrigin, type HandlerOutcome } from './delivery.ts'
import type { Envelope } from './envelope.ts'
import { PoisonMessageError } from './errors.ts'
import { names } from './names.ts'
import { KeyLanes } from './partition-lanes.ts'
import { partitionDefaults, type PartitionOptions } from './partition-topology.ts'
import { ParkRetrier, type ParkEvents } from './park-retrier.ts'
import type { ParkStore } from './park-store.ts'

export type Handler = (message: Envelope) => Promise<void>

/** Where a delivery comes from, and the index of the partition queue it came on. */
export type PartitionOrigin = DeliveryOrigin & { partition: number }

/** What the consumer lends its partitioned processing: its handler runs, dead letters and acks. */
export interface PartitionHost {
  readonly queue: string
  readonly logger?: Logger
  /** the channel still delivers for us (not lost, not stopping): work from a lost one is redelivered anyway */
  isCurrent(channel: Channel): boolean
  readonly stopping: boolean
  handlerFor(routingKey: string): Handler | undefined
  runHandler(handler: Handler, envelope: Envelope): Promise<HandlerOutcome>
  deadLetter(channel: Channel, message: ConsumeMessage, failure: FailureRecord): Promise<void>
  ack(channel: Channel, message: ConsumeMessage): void
  /** dead-letters a parked message (no channel to settle); rejects when the broker did not take it */
  deadLetterParked(message: ConsumeMessage, failure: FailureRecord): Promise<void>
  emit: ParkEvents
}

/**
 * The partitioned consumer's way through a message: in the lane of its key,
 * behind the key's parked messages if it is parked, else to the handler with
 * a few quick in-place retries, then parked with it if they all fail. Other
 * keys' lanes flow meanwhile. Nothing is acked before its outcome is durable
 * (handled, parked or dead-lettered).
 */
export class PartitionProcessing {
  private readonly lanes = new KeyLanes()
  private readonly retrier: ParkRetrier
  private readonly parkAfterAttempts: number
  private readonly inPlaceDelaysMs: readonly number[]
  private readonly retryDelaysMs: readonly number[]
  private readonly wakeups = new Set<() => void>()

  constructor(
    private readonly host: PartitionHost,
    private readonly options: PartitionOptions,
    private readonly store: ParkStore
  ) {
    this.parkAfterAttempts = options.parkAfterAttempts ?? partitionDefaults.parkAfterAttempts
    this.inPlaceDelaysMs = options.inPlaceDelaysMs ?? partitionDefaults.inPlaceDelaysMs
    this.retryDelaysMs = options.parkRetryDelaysMs ?? partitionDefaults.parkRetryDelaysMs
    this.retrier = new ParkRetrier(store, {
      queue: host.queue,
      parkAfterAttempts: this.parkAfterAttempts,
      retryDelaysMs: this.retryDelaysMs,
      pollMs: options.parkPollMs ?? partitionDefaults.parkPollMs,
      host
    })
  }

  /**
   * The keys parked on a partition, as this process knows them: read from the
   * database at the first delivery of each subscription (the moment this
   * process became the partition's active consumer), then kept up to date
   * here, since only the active consumer parks a key of its partition. A key
   * unparked since by a retrier (any process) is found out at the append,
   * which checks the database under the key's lock.
   */
  private readonly parkedKeys = new WeakMap<Channel, Map<number, Promise<Set<string> | undefined>>>()

  private parkedOn(channel: Channel, partition: number): Promise<Set<string> | undefined> {
    let byPartition = this.parkedKeys.get(channel)
    if (!byPartition) this.parkedKeys.set(channel, (byPartition = new Map()))
    let parked = byPartition.get(partition)
    if (!parked) {
      parked = this.durably(() => this.store.parkedIn(this.host.queue, partition))
      byPartition.set(partition, parked)
    }
    return parked
  }

  start(): void {
    this.retrier.start()
  }

  async stop(): Promise<void> {
    for (const wake of this.wakeups) wake()
    await this.retrier.stop()
  }

  /** Queues a valid message in its key's lane; resolves once it is settled (or left for redelivery). */
  submit(channel: Channel, message: ConsumeMessage, origin: PartitionOrigin, handler: Handler, payload: unknown, messageId: string): Promise<void> {
    // Without a partition key a message has no order to keep: a lane of its own.
    const key = partitionKeyOf(origin.routingKey, payload) ?? `message:${messageId}`
    // Asked now, in delivery order, so the first delivery of a subscription reads the parked keys before any lane runs.
    const parked = this.parkedOn(channel, origin.partition)
    return this.lanes.run(key, () => this.inLane(channel, message, origin, handler, payload, key, messageId, parked))
  }

  private async inLane(
    channel: Channel, message: ConsumeMessage, origin: PartitionOrigin, handler: Handler, payload: unknown, key: string, messageId: string,
    parkedOnPartition: Promise<Set<string> | undefined>
  ): Promise<void> {
    // Queued behind work on a channel that has since gone: the broker redelivers it, in order, on the next.
    if (!this.host.isCurrent(channel)) return
    const { queue } = this.host
    const parkedKeys = await parkedOnPartition
    if (!parkedKeys) return // stopped before the parked keys could be read: left for redelivery
    const toPark = { messageId, routingKey: origin.routingKey, exchange: origin.exchange, message }
    if (parkedKeys.has(key)) {
      const parkedBehind = await this.durably(() => this.store.appendIfParked(queue, key, toPark))
      if (parkedBehind === undefined) return
      if (parkedBehind) return this.host.ack(channel, message)
      parkedKeys.delete(key) // unparked by a retrier meanwhile: it flows again
    }
    let attempt = origin.previousAttempts + 1
    let error: Error
    for (let run = 1; ; run++) {
      const outcome = await this.host.runHandler(handler, toEnvelope(message, origin.routingKey as RoutingKey, payload, attempt))
      if (outcome.ok) return this.host.ack(channel, message)
      error = outcome.error
      this.host.logger?.warn({ err: error.message, queue, key, messageId, attempt }, 'handler failed')
      if (error instanceof PoisonMessageError) {
        return this.host.deadLetter(channel, message, this.failure(origin, 'handler', error.message, attempt))
      }
      if (run >= this.parkAfterAttempts) break
      if (!(await this.pause(this.inPlaceDelaysMs[Math.min(run - 1, this.inPlaceDelaysMs.length - 1)] ?? 0))) return
      if (!this.host.isCurrent(channel)) return
      attempt++
    }
    if (!this.host.isCurrent(channel)) return
    const retryInMs = this.retryDelaysMs[0] ?? partitionDefaults.parkRetryDelaysMs[0]
    const parked = await this.durably(async () => {
      await this.store.park(queue, key, origin.partition, toPark, error.message, retryInMs)
      return true
    })
    if (!parked) return
    parkedKeys.add(key)
    this.host.ack(channel, message)
    this.host.logger?.warn({ queue, key, messageId, err: error.message }, 'key parked: its later messages wait behind this one')
    this.host.emit.parked({ queue, key, messageId, error: error.message, attempts: attempt })
  }

  private failure(origin: PartitionOrigin, kind: FailureRecord['kind'], error: string, attempts: number): FailureRecord {
    return { kind, error, attempts, queue: names.partitionQueue(this.host.queue, origin.partition), routingKey: origin.routingKey, exchange: origin.exchange }
  }

  /**
   * A database step the message cannot do without (is the key parked? park
   * it): tried again until it works, since acking or handling the message
   * without it could reorder the key. Undefined when the consumer stops first:
   * the message is left unacked, for redelivery.
   */
  private async durably<T>(step: () => Promise<T>): Promise<T | undefined> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await step()
      } catch (err) {
        this.host.logger?.error({ err: (err as Error).message, queue: this.host.queue }, 'parking store unavailable; trying again')
        if (!(await this.pause(wait))) return undefined
      }
    }
  }

  /** Waits, unless the consumer stops first (false then). */
  private pause(ms: number): Promise<boolean> {
    if (this.host.stopping) return Promise.resolve(false)
    return new Promise((resolve) => {
      const wake = () => finish(false)
      const timer = setTimeout(() => finish(true), ms)
      const finish = (waited: boolean) => {
        clearTimeout(timer)
        this.wakeups.delete(wake)
        resolve(waited && !this.host.stopping)
      }
      this.wakeups.add(wake)
    })
  }
}
