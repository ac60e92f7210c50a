import { EventEmitter } from 'node:events'
import type { ConfirmChannel, Message, Options } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import { ChannelSlot } from './channel-slot.ts'
import type { BusConnection } from './connection.ts'
import { BusError } from './errors.ts'
import { eventProperties, type MessageMeta } from './message.ts'
import { ATTR_MESSAGING_MESSAGE_ID } from '@opentelemetry/semantic-conventions/incubating'
import { endSpan, startProducerSpan } from '../tracing/spans.ts'
import { names } from './names.ts'
import { declareTopology, type Topology } from './topology.ts'

export interface PublisherOptions {
  namespace: string
  /** the producing service, sent as `appId` */
  appId: string
  /** how long a publish waits for the broker's confirm (and for a channel while reconnecting) */
  confirmTimeoutMs?: number
  logger?: Logger
}

export interface PublishResult {
  messageId: string
  /** false when the broker returned the message: nothing is bound to its routing key */
  routed: boolean
}

/**
 * A publish awaiting its confirm. A class, not an object literal of closures: under tsx (how the services
 * run) each named closure made per message costs a defineProperty for its name, and these are made at
 * thousands a second.
 */
class PendingConfirm {
  constructor(
    readonly routingKey: string,
    readonly messageId: string,
    public deadline: number,
    readonly resolve: (result: PublishResult) => void,
    readonly reject: (error: BusError) => void
  ) {}
}

export interface RawPublish {
  exchange: string
  routingKey: string
  body: Buffer
  properties: Options.Publish
}

/**
 * Publishes with publisher confirms on a channel of its own. A publish resolves
 * only once the broker has confirmed it, and rejects on nack or timeout.
 * Messages are `mandatory`: one that reaches no queue is reported (`returned`
 * event, `routed: false`), never lost without a word.
 */
export interface PublisherEvents {
  /** the broker returned a message: nothing is bound to its routing key */
  returned: [message: Message]
  /** the broker confirmed a publish (`routed` false: it was returned); metrics count these */
  confirmed: [routingKey: string, routed: boolean]
  /** a publish was refused, timed out or lost with its channel */
  'publish-failed': [routingKey: string]
}

export class Publisher extends EventEmitter<PublisherEvents> {
  readonly label = 'publisher'
  private readonly slot: ChannelSlot<ConfirmChannel>
  /** set while the channel's write buffer is full: publishes wait for it to drain */
  private drained?: Promise<void>
  private closed = false
  /** why a channel was closed by the broker, to say so to the publishes it took down */
  private channelErrors = new WeakMap<ConfirmChannel, string>()
  private channelWaiters: Array<(channel: ConfirmChannel) => void> = []
  private returned = new Set<string>()
  /** publishes awaiting their confirm, oldest first */
  private pending = new Set<PendingConfirm>()
  private sweepTimer?: NodeJS.Timeout
  private readonly confirmTimeoutMs: number
  /** the events exchange's name, made once rather than per publish */
  private readonly exchange: string

  constructor(
    private readonly connection: BusConnection,
    readonly options: PublisherOptions
  ) {
    super()
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 15_000
    this.exchange = names.eventsExchange(options.namespace)
    this.slot = new ChannelSlot<ConfirmChannel>(connection, {
      label: this.label,
      mode: 'confirm',
      logger: options.logger,
      prepare: (channel) => this.watch(channel),
      setup: (channel) => declareTopology(channel, this.topology)
    })
    this.slot.on('open', (channel) => {
      for (const resolve of this.channelWaiters.splice(0)) resolve(channel)
    })
    // A blocked broker (memory or disk alarm) confirms nothing until it lifts the block: that wait is
    // not the publish's fault, so every publish in flight gets its whole confirm timeout again from here.
    connection.on('unblocked', () => {
      const deadline = Date.now() + this.confirmTimeoutMs
      for (const pending of this.pending) pending.deadline = Math.max(pending.deadline, deadline)
    })
  }

  get topology(): Topology {
    return {
      exchanges: [{ name: this.exchange, type: 'topic' }],
      queues: [],
      bindings: []
    }
  }

  /** The confirm channel publishes go on now, if one is open (tests, diagnostics). */
  get channel(): ConfirmChannel | undefined {
    return this.slot.channel
  }

  async start(): Promise<void> {
    this.closed = false
    await this.slot.start()
  }

  private watch(channel: ConfirmChannel): void {
    channel.on('error', (err: Error) => this.channelErrors.set(channel, err.message))
    channel.on('return', (message: Message) => {
      const id = message.properties.messageId as string | undefined
      if (id) this.returned.add(id)
      this.options.logger?.warn(
        { routingKey: message.fields.routingKey, exchange: message.fields.exchange, messageId: id },
        'message returned unroutable: no queue is bound to its routing key'
      )
      this.emit('returned', message)
    })
  }

  /** Validates the payload against its contract, then publishes it to the events exchange. */
  publish<K extends RoutingKey>(routingKey: K, payload: EventPayload<K>, meta: MessageMeta = {}): Promise<PublishResult> {
    // Not an async function: the promise of publishRaw is returned as it is, without a second one around it.
    // The body is made first: the contract check looks for unstorable text in it rather than in the value.
    const json = stringified(payload)
    const check = checkContract(routingKey, payload, json)
    if (!check.ok) return Promise.reject(new BusError('CONTRACT_VIOLATION', check.reason))
    if (json === undefined) return Promise.reject(new BusError('CONTRACT_VIOLATION', `payload of ${routingKey} has no JSON form`))
    const exchange = this.exchange
    // With tracing on, a direct publish is a `send` span, child of the work's, ended on the confirm.
    const produced = startProducerSpan('send', exchange, routingKey, this.options.appId)
    const span = produced?.span
    const properties = eventProperties(routingKey, meta, this.options, payload, produced?.traceparent)
    const sent = this.publishRaw({ exchange, routingKey, body: Buffer.from(json), properties })
    // A span of a trace not sampled (a root the sampler dropped) records nothing: no message id for it, no wait for its end.
    if (!span?.isRecording()) return sent
    span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, properties.messageId)
    sent.then(() => endSpan(span), (err: unknown) => endSpan(span, err))
    return sent
  }

  /** Publishes bytes as they are (retries, dead letters, replays, the outbox relay), with a confirm. */
  publishRaw(message: RawPublish): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new BusError('SHUTTING_DOWN', `publisher closed; ${message.routingKey} not sent`))
    // The usual case takes no await: a channel is up, the broker has not blocked us, the buffer has room.
    const channel = this.slot.channel
    if (channel && !this.drained && !this.connection.isBlocked) return this.send(channel, message, Date.now() + this.confirmTimeoutMs)
    return this.publishWhenReady(message)
  }

  private async publishWhenReady(message: RawPublish): Promise<PublishResult> {
    await this.connection.whenUnblocked()
    const deadline = Date.now() + this.confirmTimeoutMs
    const channel = await this.waitForChannel(deadline)
    // Checked right before the publish, in the same tick, so no publish slips in while the buffer is full.
    while (this.drained && this.slot.channel === channel) await this.drained
    return this.send(channel, message, deadline)
  }

  private send(channel: ConfirmChannel, message: RawPublish, deadline: number): Promise<PublishResult> {
    const messageId = (message.properties.messageId as string | undefined) ?? ''
    return new Promise<PublishResult>((resolve, reject) => {
      const pending = new PendingConfirm(message.routingKey, messageId, deadline, resolve, reject)
      this.pending.add(pending)
      this.armConfirmSweep()
      try {
        message.properties.mandatory = true
        const ok = channel.publish(message.exchange, message.routingKey, message.body, message.properties, (err: unknown) => this.settle(channel, pending, err))
        // The channel's buffer is full: later publishes wait for it to drain rather than pile on.
        if (!ok) this.holdUntilDrained(channel)
      } catch (err) {
        this.pending.delete(pending)
        this.fail(pending, new BusError('CHANNEL_CLOSED', `cannot publish ${message.routingKey}: ${(err as Error).message}`, { cause: err }))
      }
    })
  }

  /** The broker's answer to one publish: a confirm, a nack, or the channel gone before either. */
  private settle(channel: ConfirmChannel, pending: PendingConfirm, err: unknown): void {
    if (!this.pending.delete(pending)) return // already timed out
    if (err) {
      // amqplib says 'message nacked' for a nack; anything else means the channel went first.
      if ((err as Error).message === 'message nacked') {
        this.fail(pending, new BusError('PUBLISH_NACKED', `broker refused ${pending.routingKey}`, { cause: err }))
      } else {
        const why = this.channelErrors.get(channel) ?? (err as Error).message
        this.fail(pending, new BusError('CHANNEL_CLOSED', `channel closed before ${pending.routingKey} was confirmed: ${why}`, { cause: err }))
      }
      return
    }
    const routed = this.returned.size === 0 || !this.returned.delete(pending.messageId)
    this.emit('confirmed', pending.routingKey, routed)
    pending.resolve({ messageId: pending.messageId, routed })
  }

  private fail(pending: PendingConfirm, error: BusError): void {
    this.emit('publish-failed', pending.routingKey)
    pending.reject(error)
  }

  /**
   * One timer for every publish awaiting its confirm, instead of one each:
   * pending publishes are in deadline order (same timeout for all), so a
   * sweep stops at the first one still in time.
   */
  private armConfirmSweep(): void {
    if (this.sweepTimer) return
    this.sweepTimer = setInterval(() => {
      if (this.connection.isBlocked) return // see the 'unblocked' listener
      const now = Date.now()
      for (const pending of this.pending) {
        if (pending.deadline > now) break
        this.pending.delete(pending)
        this.fail(pending, new BusError('PUBLISH_TIMEOUT', `no confirm for ${pending.routingKey} within ${this.confirmTimeoutMs} ms`))
      }
      if (this.pending.size === 0) {
        clearInterval(this.sweepTimer)
        this.sweepTimer = undefined
      }
    }, Math.min(250, this.confirmTimeoutMs))
    this.sweepTimer.unref()
  }


  async close(): Promise<void> {
    this.closed = true
    const channel = this.slot.detach()
    if (channel) {
      await channel.waitForConfirms().catch(() => {})
      await channel.close().catch(() => {})
    }
  }

  private holdUntilDrained(channel: ConfirmChannel): void {
    if (this.drained) return
    // 'close' also releases: a dead channel never drains, and the waiters then find no channel.
    this.drained = new Promise<void>((resolve) => {
      const release = () => {
        channel.off('drain', release)
        channel.off('close', release)
        this.drained = undefined
        resolve()
      }
      channel.on('drain', release)
      channel.on('close', release)
    })
  }

  private waitForChannel(deadline: number): Promise<ConfirmChannel> {
    if (this.slot.channel) return Promise.resolve(this.slot.channel)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.channelWaiters = this.channelWaiters.filter((w) => w !== waiter)
        reject(new BusError('PUBLISH_TIMEOUT', 'no broker connection to publish on'))
      }, Math.max(1, deadline - Date.now()))
      const waiter = (channel: ConfirmChannel) => {
        clearTimeout(timer)
        resolve(channel)
      }
      this.channelWaiters.push(waiter)
    })
  }
}

/** The payload's JSON text, or undefined for a value that has none (a cycle, a BigInt): the contract check then says why. */
function stringified(payload: unknown): string | undefined {
  try {
    return JSON.stringify(payload)
  } catch {
    return undefined
  }
}
