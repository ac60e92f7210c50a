import { createHash } from 'node:crypto'
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib'
import type { BusConnection, ConnectionParticipant } from '../../../shared/bus/connection.ts'
import { names } from '../../../shared/bus/names.ts'
import type { EventPayload } from '../../../shared/contracts/index.ts'
import { checkContract } from '../../../shared/contracts/validate.ts'
import type { Logger } from '../../../shared/log/logger.ts'
import { pushedRoutingKeys, type PushedKey, type RecordedEvent } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import type { StreamHub } from './hub.ts'

export interface LiveFeedOptions {
  namespace: string
  /** how often to look for recorded events the live queue did not bring */
  catchUpIntervalMs: number
  prefetch?: number
  logger?: Logger
}

/**
 * This instance's live feed: a server-named, exclusive, auto-delete classic
 * queue bound to the events exchange (classic, because it answers in well
 * under a millisecond where a quorum queue batches for tens; it only needs to
 * live as long as this instance's connection, and is declared again on every
 * reconnect). Each event is recorded in the shared history, which gives it
 * its id, then pushed to this instance's own streams.
 *
 * Events are pushed in id order with no gaps: if an event arrives with an id
 * beyond the next one expected, the ones in between (recorded by another
 * instance or by the durable history consumer while this queue did not
 * exist) are read from the history and pushed first. A periodic catch-up
 * does the same when nothing arrives live. Work is serial; what arrives while
 * a batch is recorded is recorded together next (one commit per batch).
 */
export class LiveFeed implements ConnectionParticipant {
  readonly label = 'gateway live feed'
  private channel?: Channel
  private queue?: string
  private highWater = 0
  private chain: Promise<void> = Promise.resolve()
  private timer?: NodeJS.Timeout
  private stopped = false
  /** delivered, not yet recorded: recorded together, one commit per batch */
  private inbox: Array<{ channel: Channel; message: ConsumeMessage; at: number }> = []
  /** emitted-to-listeners hook for tests and metrics */
  onDispatched?: (event: RecordedEvent) => void
  /**
   * Per-event timings for the benchmark (performance.now() of this process):
   * delivered by the live queue, its batch's recording started, id known
   * (recorded), pushed to the streams.
   */
  onTrace?: (event: RecordedEvent, times: { deliveredAt: number; recordingAt: number; recordedAt: number; pushedAt: number }) => void

  constructor(
    private readonly connection: BusConnection,
    private readonly store: EventStore,
    private readonly hub: StreamHub,
    private readonly options: LiveFeedOptions
  ) {}

  /** The id of the last event pushed by this instance. */
  get lastDispatched(): number {
    return this.highWater
  }

  async start(): Promise<void> {
    this.stopped = false
    let bound!: () => void
    const queueBound = new Promise<void>((resolve) => (bound = resolve))
    // Start from what is recorded once the queue is bound: anything later arrives live or is caught up.
    this.enqueue(async () => {
      await queueBound
      this.highWater = await this.store.maxId()
    })
    try {
      await this.connection.register(this)
    } finally {
      bound()
    }
    this.timer = setInterval(() => this.enqueue(() => this.catchUp()), this.options.catchUpIntervalMs)
    this.timer.unref()
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.stopped) return
    const old = this.channel
    this.channel = undefined
    if (old) await old.close().catch(() => {})
    const channel = await model.createChannel()
    channel.on('error', (err: Error) => this.options.logger?.warn({ err: err.message }, 'live feed channel error'))
    channel.on('close', () => {
      if (this.channel !== channel) return
      this.channel = undefined
      // The channel alone died (the connection's setup handles a lost connection): open it again.
      if (!this.stopped) setTimeout(() => void this.attach(model).catch(() => {}), 500).unref()
    })
    const exchange = names.eventsExchange(this.options.namespace)
    await channel.assertExchange(exchange, 'topic', { durable: true })
    const { queue } = await channel.assertQueue('', {
      exclusive: true,
      autoDelete: true,
      durable: false,
      arguments: { 'x-queue-type': 'classic' }
    })
    for (const key of pushedRoutingKeys) await channel.bindQueue(queue, exchange, key)
    await channel.prefetch(this.options.prefetch ?? 500, false)
    this.channel = channel
    this.queue = queue
    await channel.consume(queue, (message) => {
      if (!message) return
      this.inbox.push({ channel, message, at: this.onTrace ? performance.now() : 0 })
      if (this.inbox.length === 1) this.enqueue(() => this.drainInbox())
    })
    // Whatever was published while there was no queue was recorded by the history consumer.
    this.enqueue(() => this.catchUp())
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.connection.unregister(this)
    const channel = this.channel
    this.channel = undefined
    await this.chain
    if (channel) await channel.close().catch(() => {})
  }

  /** The broker's name for this instance's queue (tests, diagnostics). */
  get queueName(): string | undefined {
    return this.queue
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: Error) => {
      this.options.logger?.warn({ err: err.message }, 'live feed: event not pushed now; the catch-up will push it')
    })
  }

  /** Records what has arrived (in one statement), pushes it in id order, acks it. */
  private async drainInbox(): Promise<void> {
    const batch = this.inbox.splice(0, 500)
    if (this.inbox.length > 0) this.enqueue(() => this.drainInbox())
    if (batch.length === 0) return
    try {
      const delivered: number[] = []
      const items = batch.flatMap(({ message, at }) => {
        const parsed = this.parse(message)
        if (parsed) delivered.push(at)
        return parsed ? [parsed] : []
      })
      if (items.length === 0) return
      const recordingAt = this.onTrace ? performance.now() : 0
      const recorded = await this.store.recordMany(items)
      const deliveredAt = new Map(recorded.map((event, i) => [event, delivered[i]!]))
      const events = [...recorded].sort((a, b) => a.id - b.id)
      const recordedAt = this.onTrace ? performance.now() : 0
      for (const event of events) {
        if (event.id <= this.highWater) continue
        if (event.id > this.highWater + 1) await this.catchUp(event.id - 1)
        if (event.id > this.highWater) this.dispatch(event)
      }
      if (this.onTrace) {
        const pushedAt = performance.now()
        for (const event of events) this.onTrace(event, { deliveredAt: deliveredAt.get(event)!, recordingAt, recordedAt, pushedAt })
      }
    } finally {
      for (const { channel, message } of batch) {
        try {
          channel.ack(message)
        } catch {
          // channel gone: nothing to settle
        }
      }
    }
  }

  /** An event as the durable consumer would see it, or nothing (that consumer dead-letters bad messages). */
  private parse(message: ConsumeMessage): { messageId: string; routingKey: PushedKey; payload: EventPayload<PushedKey> } | undefined {
    const routingKey = message.fields.routingKey
    if (!(pushedRoutingKeys as readonly string[]).includes(routingKey)) return undefined
    let payload: unknown
    try {
      payload = JSON.parse(message.content.toString('utf8'))
    } catch {
      return undefined
    }
    const check = checkContract<PushedKey>(routingKey, payload)
    if (!check.ok) return undefined
    const messageId =
      (message.properties.messageId as string | undefined) ||
      // the same id the durable consumer gives a message without one, so both record one row
      `sha256:${createHash('sha256').update(routingKey).update(message.content).digest('hex')}`
    return { messageId, routingKey: routingKey as PushedKey, payload: check.payload }
  }

  /** Pushes recorded events after the last one pushed (up to `upTo`), in id order. */
  private async catchUp(upTo = Number.MAX_SAFE_INTEGER): Promise<void> {
    for (;;) {
      const page = await this.store.after(this.highWater)
      for (const event of page) {
        if (event.id > upTo) return
        this.dispatch(event)
      }
      if (page.length < 1_000) return
    }
  }

  private dispatch(event: RecordedEvent): void {
    this.highWater = event.id
    this.hub.dispatch(event)
    this.onDispatched?.(event)
  }
}
