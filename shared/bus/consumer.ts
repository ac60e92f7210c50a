import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import { runWithContext } from '../log/context.ts'
import type { RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import type { BusConnection, ConnectionParticipant } from './connection.ts'
import { deadLetterOf, retryOf, type FailureRecord } from './dead-letter.ts'
import type { Envelope } from './envelope.ts'
import { PoisonMessageError } from './errors.ts'
import { Headers, type DeadLetterKind } from './headers.ts'
import { names } from './names.ts'
import type { Publisher } from './publisher.ts'
import { blockingDelay, defaultRetryPolicy, delayQueueDelays, maxAttempts, type RetryPolicy } from './retry.ts'
import { declareTopology, quorum, type Topology } from './topology.ts'

export type HandlerMap = { [K in RoutingKey]?: (message: Envelope<K>) => Promise<void> }

/**
 * A consuming queue as data, without its handlers: what `bazaar topology`
 * reads from each service's `topology.ts`.
 */
export interface ConsumerDeclaration {
  /** the consuming service: first part of the queue name */
  service: string
  /** what the queue is for, e.g. `user-events` */
  purpose: string
  /** binding patterns on the events exchange, e.g. `user.#` or `user.updated` */
  bindings: string[]
  /** unacknowledged messages in flight at once; forced to 1 by a blocking retry policy */
  prefetch?: number
  retry?: RetryPolicy
}

export interface ConsumerSpec extends ConsumerDeclaration {
  /** one handler per routing key it processes */
  handlers: HandlerMap
  /** how long stop() waits for in-flight handlers */
  shutdownTimeoutMs?: number
}

export interface ConsumerOptions {
  namespace: string
  logger?: Logger
}

/** A broker-side guard: a message redelivered this often (crash loops) is dead-lettered by the broker itself. */
const BROKER_DELIVERY_LIMIT = 50

/** The topology one consumer needs: its queue, delay queues, dead-letter queue and bindings. */
export function consumerTopology(namespace: string, spec: ConsumerDeclaration): Topology {
  const queue = names.queue(namespace, spec.service, spec.purpose)
  const dlq = names.deadLetterQueue(queue)
  const exchange = names.eventsExchange(namespace)
  const policy = spec.retry ?? defaultRetryPolicy
  return {
    exchanges: [{ name: exchange, type: 'topic' }],
    queues: [
      {
        name: queue,
        service: spec.service,
        purpose: 'work',
        arguments: quorum({
          'x-delivery-limit': BROKER_DELIVERY_LIMIT,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': dlq
        })
      },
      ...delayQueueDelays(policy).map((delay) => ({
        name: names.retryQueue(queue, delay),
        service: spec.service,
        purpose: 'retry' as const,
        // Expired messages go back to the work queue; at-least-once so none is lost on the way.
        arguments: quorum({
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish'
        })
      })),
      { name: dlq, service: spec.service, purpose: 'dead-letter', arguments: quorum() }
    ],
    bindings: spec.bindings.map((routingKey) => ({ exchange, queue, routingKey }))
  }
}

/**
 * Consumes one queue. Each message is parsed, checked against the contract of
 * its routing key and handed to its handler inside the message's work context.
 * Then: success acks; a malformed or contract-invalid message is dead-lettered
 * at once; a handler failure is retried by the policy, then dead-lettered.
 * Nothing is acked before its retry or dead letter is confirmed by the broker.
 */
export class Consumer extends EventEmitter implements ConnectionParticipant {
  readonly queue: string
  readonly topology: Topology
  private readonly policy: RetryPolicy
  private readonly prefetch: number
  private channel?: Channel
  private consumerTag?: string
  private inFlight = new Set<Promise<void>>()
  private stopping = false
  /** aborts the wait of a blocking retry: set while one is in progress */
  private abortBlockingWait?: (reason: 'skip' | 'stop') => void
  private skipRequested = false

  constructor(
    private readonly connection: BusConnection,
    private readonly publisher: Publisher,
    readonly spec: ConsumerSpec,
    private readonly options: ConsumerOptions
  ) {
    super()
    this.queue = names.queue(options.namespace, spec.service, spec.purpose)
    this.topology = consumerTopology(options.namespace, spec)
    this.policy = spec.retry ?? defaultRetryPolicy
    this.prefetch = this.policy.kind === 'blocking' ? 1 : (spec.prefetch ?? 20)
  }

  get label(): string {
    return `consumer ${this.queue}`
  }

  async start(): Promise<void> {
    this.stopping = false
    await this.connection.register(this)
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.stopping) return
    const channel = await model.createChannel()
    channel.on('error', (err: Error) => this.options.logger?.warn({ err: err.message, queue: this.queue }, 'consumer channel error'))
    channel.on('handler-error', () => {})
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined
    })
    await declareTopology(channel, this.topology)
    await channel.prefetch(this.prefetch, false)
    this.channel = channel
    const { consumerTag } = await channel.consume(this.queue, (message) => {
      if (!message) return // the broker cancelled us (queue deleted); recovery re-declares it
      this.track(this.process(channel, message))
    })
    this.consumerTag = consumerTag
    this.emit('consuming')
  }

  /**
   * Stops taking messages, waits (bounded) for in-flight handlers to finish
   * and settle their messages, then closes the channel. Unsettled messages go
   * back to the queue for the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true
    this.connection.unregister(this)
    const channel = this.channel
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => {})
    const timeout = this.spec.shutdownTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => { timer = setTimeout(resolve, timeout) })
    ])
    clearTimeout(timer)
    this.abortBlockingWait?.('stop')
    this.channel = undefined
    if (channel) await channel.close().catch(() => {})
  }

  /**
   * Operator's way out of a blocking retry stuck on one message: dead-letter
   * it now (reason: skipped) so the rest can flow. Returns false when no
   * message is being retried.
   */
  skipCurrent(): boolean {
    if (!this.abortBlockingWait) return false
    this.skipRequested = true
    this.abortBlockingWait('skip')
    return true
  }

  get isRetrying(): boolean {
    return this.abortBlockingWait !== undefined
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work)
    void work.finally(() => this.inFlight.delete(work))
  }

  private async process(channel: Channel, message: ConsumeMessage): Promise<void> {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>
    const routingKey = String(
      headers[Headers.originalRoutingKey] ?? (message.fields.exchange ? message.fields.routingKey : message.properties.type ?? message.fields.routingKey)
    )
    const exchange = String(headers[Headers.originalExchange] ?? message.fields.exchange)
    const previousAttempts = Number(headers[Headers.attempts] ?? 0) || 0
    const failure = (kind: DeadLetterKind, error: string, attempts: number): FailureRecord => ({
      kind, error, attempts, queue: this.queue, routingKey, exchange
    })

    const parsed = parse(message)
    if (!parsed.ok) return this.deadLetter(channel, message, failure('malformed', parsed.reason, previousAttempts))
    const check = checkContract(routingKey, parsed.value)
    if (!check.ok) return this.deadLetter(channel, message, failure('contract', check.reason, previousAttempts))
    const handler = this.spec.handlers[routingKey as RoutingKey] as ((m: Envelope) => Promise<void>) | undefined
    if (!handler) {
      return this.deadLetter(channel, message, failure('contract', `${this.queue} has no handler for ${routingKey}`, previousAttempts))
    }

    let attempt = previousAttempts + 1
    for (;;) {
      const envelope = toEnvelope(message, routingKey as RoutingKey, check.payload, attempt)
      const outcome = await this.runHandler(handler, envelope)
      if (outcome.ok) return this.settle(channel, message, 'ack')
      const error = outcome.error
      this.options.logger?.warn({ err: error.message, queue: this.queue, messageId: envelope.id, attempt }, 'handler failed')
      if (error instanceof PoisonMessageError) {
        return this.deadLetter(channel, message, failure('handler', error.message, attempt))
      }
      if (attempt >= maxAttempts(this.policy)) {
        return this.deadLetter(channel, message, failure('handler', error.message, attempt))
      }
      if (this.policy.kind === 'delayed') {
        const delay = this.policy.delaysMs[attempt - 1]!
        const retry = retryOf(message, {
          retryQueue: names.retryQueue(this.queue, delay), attempts: attempt, error: error.message, routingKey, exchange
        })
        return this.forward(channel, message, retry.routingKey, () => this.publisher.publishRaw(retry))
      }
      const waited = await this.waitBeforeRetry(blockingDelay(this.policy, attempt))
      if (waited === 'skip') {
        return this.deadLetter(channel, message, failure('skipped', `skipped by operator after: ${error.message}`, attempt))
      }
      if (waited === 'stop') return this.settle(channel, message, 'requeue')
      attempt += 1
    }
  }

  private async runHandler(handler: (m: Envelope) => Promise<void>, envelope: Envelope) {
    try {
      await runWithContext(
        { requestId: envelope.requestId, correlationId: envelope.correlationId, messageId: envelope.id },
        () => handler(envelope)
      )
      this.emit('handled', envelope)
      return { ok: true as const }
    } catch (err) {
      return { ok: false as const, error: err instanceof Error ? err : new Error(String(err)) }
    }
  }

  private waitBeforeRetry(ms: number): Promise<'retry' | 'skip' | 'stop'> {
    if (this.stopping) return Promise.resolve('stop')
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('retry'), ms)
      const finish = (result: 'retry' | 'skip' | 'stop') => {
        clearTimeout(timer)
        this.abortBlockingWait = undefined
        const skipped = this.skipRequested
        this.skipRequested = false
        resolve(skipped ? 'skip' : result)
      }
      this.abortBlockingWait = finish
    })
  }

  private async deadLetter(channel: Channel, message: ConsumeMessage, failure: FailureRecord): Promise<void> {
    this.options.logger?.error(
      { queue: this.queue, messageId: message.properties.messageId, kind: failure.kind, reason: failure.error },
      'message dead-lettered'
    )
    const letter = deadLetterOf(message, failure)
    await this.forward(channel, message, letter.routingKey, () => this.publisher.publishRaw(letter))
    this.emit('dead-lettered', { messageId: message.properties.messageId, ...failure })
  }

  /** Acks a message only once its copy (retry or dead letter) is confirmed; otherwise it is redelivered. */
  private async forward(channel: Channel, message: ConsumeMessage, target: string, publish: () => Promise<unknown>) {
    try {
      await publish()
      this.settle(channel, message, 'ack')
    } catch (err) {
      this.options.logger?.error({ err: (err as Error).message, target }, 'could not forward message; it will be redelivered')
      this.settle(channel, message, 'requeue')
    }
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    // A delivery can only be settled on the channel it came on; if that channel
    // died, the broker has already put the message back for redelivery.
    if (channel !== this.channel && this.channel !== undefined) return
    try {
      if (how === 'ack') channel.ack(message)
      else channel.nack(message, false, true)
    } catch {
      // channel closed under us: the broker redelivers, the inbox makes that harmless
    }
  }
}

function parse(message: ConsumeMessage): { ok: true; value: unknown } | { ok: false; reason: string } {
  const contentType = message.properties.contentType as string | undefined
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    return { ok: false, reason: `content type ${contentType} is not application/json` }
  }
  try {
    return { ok: true, value: JSON.parse(message.content.toString('utf8')) }
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` }
  }
}

function toEnvelope(message: ConsumeMessage, routingKey: RoutingKey, payload: unknown, attempt: number): Envelope {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>
  const str = (value: unknown) => (typeof value === 'string' && value ? value : undefined)
  const timestamp = message.properties.timestamp as number | undefined
  return {
    // A message from outside without an id gets one from its content, stable across redeliveries.
    id: str(message.properties.messageId) ?? `sha256:${createHash('sha256').update(routingKey).update(message.content).digest('hex')}`,
    routingKey,
    payload: payload as Envelope['payload'],
    requestId: str(headers[Headers.requestId]),
    correlationId: str(headers[Headers.correlationId]),
    causationId: str(headers[Headers.causationId]),
    appId: str(message.properties.appId),
    publishedAt: timestamp ? new Date(timestamp * 1000) : undefined,
    attempt,
    redelivered: message.fields.redelivered,
    headers,
    raw: message
  }
}
