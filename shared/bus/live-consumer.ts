import { EventEmitter } from 'node:events'
import type { Channel, ConsumeMessage } from 'amqplib'
import { Coalescer } from '../batch/coalescer.ts'
import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import type { Logger } from '../log/logger.ts'
import { ChannelSlot } from './channel-slot.ts'
import type { BusConnection } from './connection.ts'
import { ConsumerState, type ConsumerKind } from './consumer-kind.ts'
import { parseBody, toEnvelope } from './delivery.ts'
import { names } from './names.ts'

/** One event as the live kind hands it over: checked against its contract. */
export interface LiveMessage<K extends RoutingKey = RoutingKey> {
  /** the message id (one derived from the content when the producer sent none, as the durable kind does) */
  id: string
  routingKey: K
  payload: EventPayload<K>
  /** performance.now() when it was delivered to this process */
  deliveredAt: number
}

export interface LiveConsumerSpec<K extends RoutingKey> {
  namespace: string
  /** shown in logs */
  label: string
  /** the routing keys this process hears on the events exchange */
  routingKeys: readonly K[]
  /** handles one batch, in delivery order; the next batch waits for it */
  handle(batch: Array<LiveMessage<K>>): Promise<void>
  /** deliveries unacknowledged at once, which also bounds the batch being gathered */
  prefetch?: number
  /** deliveries per batch */
  maxBatch?: number
  logger?: Logger
}

export interface LiveConsumerEvents {
  /** its queue is (again) declared, bound and consumed: what was published while there was none was not heard */
  consuming: [queue: string]
  /** a delivery not handed over: not JSON, not an event this consumer hears, or against its contract */
  ignored: [routingKey: string, reason: string]
}

/**
 * The live kind: a server-named, exclusive, auto-delete classic queue per
 * process on the events exchange (classic: it answers in well under a
 * millisecond where a quorum queue batches for tens). It lives as long as the
 * process's connection and is declared and bound again after every reconnect,
 * under a new name: what was published in between is not heard here, so its
 * owner needs a durable path to make up for it (the 'consuming' event says
 * when to look). Deliveries are handed over in batches, one batch at a time;
 * each is acknowledged once its batch was handled, whatever the outcome:
 * a live consumer never retries, its durable path does.
 */
export class LiveConsumer<K extends RoutingKey> extends EventEmitter<LiveConsumerEvents> implements ConsumerKind {
  readonly kind = 'live'
  private readonly slot: ChannelSlot
  private readonly batches: Coalescer<{ channel: Channel; message: ConsumeMessage; live?: LiveMessage<K> }>
  private readonly keys: ReadonlySet<string>
  private stateNow = ConsumerState.Idle
  private queueNow?: string

  constructor(
    connection: BusConnection,
    private readonly spec: LiveConsumerSpec<K>
  ) {
    super()
    this.keys = new Set(spec.routingKeys)
    const prefetch = spec.prefetch ?? 500
    this.batches = new Coalescer((items) => this.handOver(items), { maxBatch: spec.maxBatch ?? 500, capacity: prefetch })
    this.slot = new ChannelSlot(connection, { label: spec.label, mode: 'plain', logger: spec.logger, setup: (channel) => this.consume(channel, prefetch) })
    this.slot.on('lost', () => {
      if (this.stateNow === ConsumerState.Consuming) this.stateNow = ConsumerState.Reattaching
    })
  }

  get state(): ConsumerState {
    return this.stateNow
  }

  /** The broker's name for this process's queue now (tests, diagnostics). */
  get queue(): string | undefined {
    return this.queueNow
  }

  async start(): Promise<void> {
    this.stateNow = ConsumerState.Starting
    await this.slot.start()
  }

  /** Stops hearing, lets the batch being handled finish, then closes the channel. */
  async stop(): Promise<void> {
    this.stateNow = ConsumerState.Stopping
    const channel = this.slot.detach()
    await this.batches.idle()
    await channel?.close().catch(() => {})
    this.queueNow = undefined
    this.stateNow = ConsumerState.Stopped
  }

  private async consume(channel: Channel, prefetch: number): Promise<void> {
    const exchange = names.eventsExchange(this.spec.namespace)
    await channel.assertExchange(exchange, 'topic', { durable: true })
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-queue-type': 'classic' } })
    for (const key of this.spec.routingKeys) await channel.bindQueue(queue, exchange, key)
    await channel.prefetch(prefetch, false)
    await channel.consume(queue, (message) => {
      if (message) void this.batches.add({ channel, message, live: this.read(message) }).catch(() => {})
      // The broker cancelled us (queue deleted): a new channel declares a new queue.
      else if (this.stateNow !== ConsumerState.Stopping) void channel.close().catch(() => {})
    })
    this.queueNow = queue
    this.stateNow = ConsumerState.Consuming
    this.emit('consuming', queue)
  }

  private read(message: ConsumeMessage): LiveMessage<K> | undefined {
    const deliveredAt = performance.now()
    const routingKey = message.fields.routingKey
    if (!this.keys.has(routingKey)) return this.ignore(routingKey, 'not a routing key this consumer hears')
    const parsed = parseBody(message)
    if (!parsed.ok) return this.ignore(routingKey, parsed.reason)
    const check = checkContract<K>(routingKey, parsed.value, parsed.text)
    if (!check.ok) return this.ignore(routingKey, check.reason)
    const id = toEnvelope(message, routingKey as K, check.payload, 1).id
    return { id, routingKey: routingKey as K, payload: check.payload, deliveredAt }
  }

  private ignore(routingKey: string, reason: string): undefined {
    this.emit('ignored', routingKey, reason)
    return undefined
  }

  private async handOver(items: Array<{ channel: Channel; message: ConsumeMessage; live?: LiveMessage<K> }>): Promise<void> {
    const batch = items.flatMap((item) => (item.live ? [item.live] : []))
    try {
      if (batch.length > 0) await this.spec.handle(batch)
    } catch (err) {
      this.spec.logger?.warn({ err: (err as Error).message, consumer: this.spec.label }, 'live batch not handled; its durable path makes up for it')
    } finally {
      this.ackUpTo(items)
    }
  }

  /** One ack per channel for the whole batch: its deliveries are in order, and every earlier one was acked before. */
  private ackUpTo(items: Array<{ channel: Channel; message: ConsumeMessage }>): void {
    const last = new Map<Channel, ConsumeMessage>()
    for (const { channel, message } of items) last.set(channel, message)
    for (const [channel, message] of last) {
      try {
        channel.ack(message, true)
      } catch {
        // channel gone: the broker put its deliveries back (onto a queue that went with it)
      }
    }
  }
}
