import { EventEmitter } from 'node:events'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import { runWithContext } from '../log/context.ts'
import type { RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import { BlockingRetry } from './blocking-retry.ts'
import { ChannelSlot, closeChannel } from './channel-slot.ts'
import type { BusConnection } from './connection.ts'
import { ConsumerState, type ConsumerKind } from './consumer-kind.ts'
import { consumerTopology, type ConsumerDeclaration } from './consumer-topology.ts'
import { deadLetterOf, retryOf, type FailureRecord } from './dead-letter.ts'
import { messageIdOf, originOf, parseBody, toEnvelope, type DeliveryOrigin, type HandlerOutcome } from './delivery.ts'
import type { Envelope } from './envelope.ts'
import { PoisonMessageError } from './errors.ts'
import { Headers, type DeadLetterKind } from './headers.ts'
import { InFlight } from './in-flight.ts'
import { names } from './names.ts'
import { partitionedDeadLetter } from './park-letters.ts'
import { ParkStore, type ParkingDatabase } from './park-store.ts'
import type { ParkedInfo } from './park-retrier.ts'
import { PartitionProcessing } from './partition-processing.ts'
import { partitionQueues } from './partition-topology.ts'
import type { Publisher, RawPublish } from './publisher.ts'
import { blockingDelay, defaultRetryPolicy, maxAttempts, type RetryPolicy } from './retry.ts'
import { declareTopology, type Topology } from './topology.ts'
import type { Span } from '@opentelemetry/api'
import { endSpan, startProcessSpan } from '../tracing/spans.ts'

export { consumerTopology, BROKER_DELIVERY_LIMIT, type ConsumerDeclaration } from './consumer-topology.ts'

export type HandlerMap = { [K in RoutingKey]?: (message: Envelope<K>) => Promise<void> }

export interface ConsumerSpec extends ConsumerDeclaration {
  /** one handler per routing key it processes */
  handlers: HandlerMap
  /** how long stop() waits for in-flight handlers */
  shutdownTimeoutMs?: number
}

export interface ConsumerOptions {
  namespace: string
  logger?: Logger
  /** the service's database, where a partitioned consumer parks keys (required with `partitions`) */
  parking?: ParkingDatabase
}


/** Which message an event is about: its id and the request that caused it (`bazaar trace` records them). */
export interface MessageIds {
  messageId: unknown
  requestId?: string
}

/** The ids of a delivered message, for the consumer's events. */
function idsOf(message: ConsumeMessage): MessageIds {
  const requestId = message.properties.headers?.[Headers.requestId] as unknown
  return { messageId: message.properties.messageId, requestId: typeof requestId === 'string' ? requestId : undefined }
}

export interface ConsumerEvents {
  /** its channel is set up and consuming (again, after a reattach) */
  consuming: []
  /** a handler succeeded, in `seconds` (metrics: shared/metrics) */
  handled: [envelope: Envelope, seconds: number]
  /** a handler attempt failed after `seconds`; what follows is a `retried` or a `dead-lettered` */
  'handler-failed': [envelope: Envelope, seconds: number]
  /** a failed message goes round again: through a delay queue, or in place (blocking) */
  retried: [info: { queue: string; routingKey: string; attempt: number } & MessageIds]
  'dead-lettered': [letter: FailureRecord & MessageIds]
  /** partitioned: a key's handler kept failing; the key is parked with this message, its later ones wait behind it */
  parked: [info: ParkedInfo]
  /** partitioned: every parked message of the key is handled (or skipped); it flows again */
  unparked: [info: { queue: string; key: string }]
}

/**
 * Consumes one queue. Each message is parsed, checked against the contract of
 * its routing key and handed to its handler inside the message's work context.
 * Then: success acks; a malformed or contract-invalid message is dead-lettered
 * at once; a handler failure is retried by the policy, then dead-lettered.
 * Nothing is acked before its retry or dead letter is confirmed by the broker.
 */
export class Consumer extends EventEmitter<ConsumerEvents> implements ConsumerKind {
  readonly kind = 'durable'
  readonly queue: string
  readonly topology: Topology
  private readonly policy: RetryPolicy
  private readonly prefetch: number
  private readonly slot: ChannelSlot
  private consumerTags: string[] = []
  /** the channel delivering now; work queued from an earlier one is left to its redelivery */
  private channelNow?: Channel
  /** per-key order and parking, for a consumer declared with `partitions` */
  private readonly partitioned?: PartitionProcessing
  private readonly inFlight = new InFlight()
  private stateNow = ConsumerState.Idle
  private readonly blocking = new BlockingRetry()

  constructor(
    connection: BusConnection,
    private readonly publisher: Publisher,
    readonly spec: ConsumerSpec,
    private readonly options: ConsumerOptions
  ) {
    super()
    this.queue = names.queue(options.namespace, spec.service, spec.purpose)
    this.topology = consumerTopology(options.namespace, spec)
    this.policy = spec.retry ?? defaultRetryPolicy
    this.prefetch = this.policy.kind === 'blocking' && !spec.partitions ? 1 : (spec.prefetch ?? 20)
    if (spec.partitions) this.partitioned = this.partitionProcessing(spec.partitions, options)
    this.slot = new ChannelSlot(connection, { label: `consumer ${this.queue}`, mode: 'plain', logger: options.logger, setup: (channel) => this.consume(channel) })
    this.slot.on('lost', () => {
      this.channelNow = undefined
      if (this.stateNow === ConsumerState.Consuming) this.stateNow = ConsumerState.Reattaching
    })
  }

  get label(): string {
    return this.slot.label
  }

  get state(): ConsumerState {
    return this.stateNow
  }

  async start(): Promise<void> {
    this.stateNow = ConsumerState.Starting
    await this.slot.start()
    this.partitioned?.start()
  }

  /** The queues it consumes: its work queue, or its partition queues. */
  get consumedQueues(): string[] {
    return this.spec.partitions ? partitionQueues(this.queue, this.spec.partitions.count) : [this.queue]
  }

  private async consume(channel: Channel): Promise<void> {
    await declareTopology(channel, this.topology)
    // Per consumer, so with partitions each partition queue has this many in flight.
    await channel.prefetch(this.prefetch, false)
    this.channelNow = channel
    const tags: string[] = []
    for (const [partition, queue] of this.consumedQueues.entries()) {
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message) return this.process(channel, message, queue, partition)
        // The broker cancelled us (queue deleted): a new channel re-declares the queue and consumes again.
        if (this.stateNow !== ConsumerState.Stopping) void channel.close().catch(() => {})
      })
      tags.push(consumerTag)
    }
    this.consumerTags = tags
    this.stateNow = ConsumerState.Consuming
    this.emit('consuming')
  }

  private partitionProcessing(partitions: NonNullable<ConsumerSpec['partitions']>, options: ConsumerOptions): PartitionProcessing {
    if (!options.parking) throw new Error(`${this.queue} has partitions but its bus has no database to park keys in (BusOptions.parking)`)
    const isStopping = () => this.stateNow === ConsumerState.Stopping
    return new PartitionProcessing(
      {
        queue: this.queue,
        logger: options.logger,
        isCurrent: (channel) => channel === this.channelNow && this.stateNow !== ConsumerState.Stopping,
        get stopping() {
          return isStopping()
        },
        handlerFor: (routingKey) => this.spec.handlers[routingKey as RoutingKey] as ((m: Envelope) => Promise<void>) | undefined,
        runHandler: (handler, envelope) => this.runHandler(handler, envelope),
        deadLetter: (channel, message, failure) => this.deadLetter(channel, message, failure),
        ack: (channel, message) => this.settle(channel, message, 'ack'),
        deadLetterParked: (message, failure) => this.deadLetterParked(message, failure),
        emit: { parked: (info) => this.emit('parked', info), unparked: (info) => this.emit('unparked', info) }
      },
      partitions,
      new ParkStore(options.parking)
    )
  }

  /**
   * Stops taking messages, waits (bounded) for in-flight handlers to finish
   * and settle their messages, then closes the channel. Unsettled messages go
   * back to the queue for the next start.
   */
  async stop(): Promise<void> {
    this.stateNow = ConsumerState.Stopping
    const channel = this.slot.detach()
    // A partitioned consumer does not cancel: the broker would at once make a standby replica the active
    // consumer of each partition and send it later messages while ours were still unsettled here. It
    // finishes the messages its handlers are running, leaves the rest unacked, and closes the channel,
    // which returns them, in order, to the next consumer.
    if (channel && !this.partitioned) for (const tag of this.consumerTags) await channel.cancel(tag).catch(() => {})
    // A message waiting out a blocking backoff goes back to the queue now rather than holding up shutdown.
    this.blocking.stop()
    // Cuts short in-place waits; the retrier finishes the parked message it has in hand.
    const stoppingPartitions = this.partitioned?.stop()
    const timeout = this.spec.shutdownTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.inFlight.idle(),
      new Promise((resolve) => { timer = setTimeout(resolve, timeout) })
    ])
    clearTimeout(timer)
    await stoppingPartitions
    this.consumerTags = []
    await closeChannel(channel)
    this.stateNow = ConsumerState.Stopped
  }

  /**
   * Operator's way out of a blocking retry stuck on one message: dead-letter
   * it (kind `skipped`) so the rest can flow: at once if it is waiting out a
   * backoff, else when the running attempt fails. Returns false when no
   * message is being retried.
   */
  skipCurrent(): boolean {
    return this.blocking.skip()
  }

  get isRetrying(): boolean {
    return this.blocking.isRetrying
  }

  /** Work on a delivery that runs through a promise of its own (every path but a handler's first success). */
  private track(work: Promise<void>): void {
    this.inFlight.enter()
    work.then(
      () => this.inFlight.leave(),
      (err: unknown) => {
        this.inFlight.leave()
        this.unexpected(err)
      }
    )
  }

  /** process() settles every message itself; reaching here is a bug, and the message is redelivered. */
  private unexpected(err: unknown): void {
    this.options.logger?.error({ err, queue: this.queue }, 'message processing failed unexpectedly')
  }

  /**
   * `from`: the queue it was delivered from (a partition queue, for a partitioned consumer): where a replay
   * sends it back; `partition`: that queue's index.
   */
  private process(channel: Channel, message: ConsumeMessage, from: string, partition: number): void {
    const origin = originOf(message)
    const { routingKey, previousAttempts } = origin
    const parsed = parseBody(message)
    if (!parsed.ok) return this.track(this.deadLetter(channel, message, this.failure(origin, 'malformed', parsed.reason, previousAttempts, from)))
    // Checked on the body's text as well as its value: unstorable text is looked for in the one string.
    const check = checkContract(routingKey, parsed.value, parsed.text)
    if (!check.ok) return this.track(this.deadLetter(channel, message, this.failure(origin, 'contract', check.reason, previousAttempts, from)))
    const handler = this.spec.handlers[routingKey as RoutingKey] as ((m: Envelope) => Promise<void>) | undefined
    if (!handler) {
      return this.track(
        this.deadLetter(channel, message, this.failure(origin, 'contract', `${this.queue} has no handler for ${routingKey}`, previousAttempts, from))
      )
    }
    if (this.partitioned) {
      return this.track(this.partitioned.submit(channel, message, { ...origin, partition }, handler, check.payload, messageIdOf(message, routingKey)))
    }
    // The usual case, a handler that succeeds at once, costs one promise beyond the handler's own: no
    // async function, no promise to track it (each one runs the work context's hooks, at thousands a second).
    const attempt = previousAttempts + 1
    const envelope = toEnvelope(message, routingKey as RoutingKey, check.payload, attempt)
    const run = this.begin(handler, envelope)
    this.inFlight.enter()
    run.running.then(
      () => {
        try {
          this.handled(run, envelope)
          this.blocking.done()
          this.settle(channel, message, 'ack')
        } catch (err) {
          this.unexpected(err)
        } finally {
          this.inFlight.leave()
        }
      },
      (err: unknown) => {
        try {
          const { error } = this.handlerFailed(run, envelope, err)
          this.track(this.afterFailure(channel, message, origin, handler, check.payload, attempt, error))
        } catch (unexpected) {
          this.unexpected(unexpected)
        } finally {
          this.inFlight.leave()
        }
      }
    )
  }

  /** A failed attempt: retried (in place or through a delay queue) or dead-lettered, per the retry policy. */
  private async afterFailure(
    channel: Channel,
    message: ConsumeMessage,
    origin: DeliveryOrigin,
    handler: (m: Envelope) => Promise<void>,
    payload: unknown,
    failedAttempt: number,
    firstError: Error
  ): Promise<void> {
    const { routingKey, exchange } = origin
    try {
      let error = firstError
      for (let attempt = failedAttempt; ; ) {
        this.options.logger?.warn({ err: error.message, queue: this.queue, messageId: message.properties.messageId, attempt }, 'handler failed')
        if (error instanceof PoisonMessageError || attempt >= maxAttempts(this.policy)) {
          return this.deadLetter(channel, message, this.failure(origin, 'handler', error.message, attempt))
        }
        if (this.policy.kind === 'delayed') {
          const delay = this.policy.delaysMs[attempt - 1]!
          const retry = retryOf(message, {
            retryQueue: names.retryQueue(this.queue, delay), attempts: attempt, error: error.message, routingKey, exchange
          })
          if (await this.forward(channel, message, retry)) this.emit('retried', { queue: this.queue, routingKey, attempt, ...idsOf(message) })
          return
        }
        const waited = this.stateNow === ConsumerState.Stopping ? 'stop' : await this.blocking.wait(blockingDelay(this.policy, attempt))
        if (waited === 'skip') {
          return this.deadLetter(channel, message, this.failure(origin, 'skipped', `skipped by operator after: ${error.message}`, attempt))
        }
        if (waited === 'stop') return this.settle(channel, message, 'requeue')
        this.emit('retried', { queue: this.queue, routingKey, attempt, ...idsOf(message) })
        attempt++
        const outcome = await this.runHandler(handler, toEnvelope(message, routingKey as RoutingKey, payload, attempt))
        if (outcome.ok) return this.settle(channel, message, 'ack')
        error = outcome.error
      }
    } finally {
      this.blocking.done()
    }
  }

  private failure(origin: DeliveryOrigin, kind: DeadLetterKind, error: string, attempts: number, from = this.queue): FailureRecord {
    return { kind, error, attempts, queue: from, routingKey: origin.routingKey, exchange: origin.exchange }
  }

  /** The handler's outcome; not an async function, so a message costs one promise less (each one runs the context's hooks). */
  private runHandler(handler: (m: Envelope) => Promise<void>, envelope: Envelope): Promise<HandlerOutcome> {
    const run = this.begin(handler, envelope)
    return run.running.then(
      () => {
        this.handled(run, envelope)
        return succeeded
      },
      (err: unknown) => this.handlerFailed(run, envelope, err)
    )
  }

  /** Starts one run of a handler: its span (tracing on) and its work context; a handler that throws at once is a failed run. */
  private begin(handler: (m: Envelope) => Promise<void>, envelope: Envelope): HandlerRun {
    const started = performance.now()
    // the message's trace: a process span when tracing is on, else its traceparent passed on to what the handler emits
    const trace = startProcessSpan(envelope, this.queue, this.spec.service)
    // one run: the ids and, when tracing, the span as OpenTelemetry's active context (shared/tracing/context-manager.ts)
    const work = { requestId: envelope.requestId, correlationId: envelope.correlationId, messageId: envelope.id, traceparent: trace.traceparent, otel: trace.context }
    let running: Promise<void>
    try {
      running = Promise.resolve(runWithContext(work, () => handler(envelope)))
    } catch (err) {
      running = Promise.reject(err)
    }
    return { running, started, span: trace.span }
  }

  private handled(run: HandlerRun, envelope: Envelope): void {
    endSpan(run.span)
    this.emit('handled', envelope, (performance.now() - run.started) / 1000)
  }

  private handlerFailed(run: HandlerRun, envelope: Envelope, err: unknown): { ok: false; error: Error } {
    endSpan(run.span, err)
    this.emit('handler-failed', envelope, (performance.now() - run.started) / 1000)
    return failed(err)
  }

  /**
   * A parked message to the dead-letter queue (no channel to settle it on):
   * rejects unless the broker confirmed and routed it, so the caller keeps it parked.
   */
  private async deadLetterParked(message: ConsumeMessage, failure: FailureRecord): Promise<void> {
    const letter = partitionedDeadLetter(this.queue, message, failure)
    const { routed } = await this.publisher.publishRaw(letter)
    if (!routed) throw new Error(`queue ${letter.routingKey} does not exist`)
    this.options.logger?.error({ queue: this.queue, messageId: message.properties.messageId, kind: failure.kind, reason: failure.error }, 'parked message dead-lettered')
    this.emit('dead-lettered', { ...idsOf(message), ...failure })
  }

  private async deadLetter(channel: Channel, message: ConsumeMessage, failure: FailureRecord): Promise<void> {
    this.options.logger?.error(
      { queue: this.queue, messageId: message.properties.messageId, kind: failure.kind, reason: failure.error },
      'message dead-lettered'
    )
    // A partitioned consumer has one dead-letter queue for all its partitions.
    const letter = this.partitioned ? partitionedDeadLetter(this.queue, message, failure) : deadLetterOf(message, failure)
    if (await this.forward(channel, message, letter)) {
      this.emit('dead-lettered', { ...idsOf(message), ...failure })
    }
  }

  /**
   * Acks a message only once its copy (retry or dead letter) is confirmed and
   * routed to its queue; otherwise it goes back to be delivered again.
   */
  private async forward(channel: Channel, message: ConsumeMessage, copy: RawPublish): Promise<boolean> {
    try {
      const { routed } = await this.publisher.publishRaw(copy)
      if (!routed) throw new Error(`queue ${copy.routingKey} does not exist`)
      this.settle(channel, message, 'ack')
      return true
    } catch (err) {
      this.options.logger?.error({ err: (err as Error).message, target: copy.routingKey }, 'could not forward message; it will be redelivered')
      this.settle(channel, message, 'requeue')
      return false
    }
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    // A delivery can only be settled on the channel it came on. If that channel
    // died, the broker has already put the message back for redelivery (and the
    // inbox makes the second run harmless), so a failure here is expected.
    try {
      if (how === 'ack') channel.ack(message)
      else channel.nack(message, false, true)
    } catch {
      this.options.logger?.debug({ queue: this.queue, messageId: message.properties.messageId }, 'channel gone before settling')
    }
  }
}

const succeeded: HandlerOutcome = { ok: true }
const failed = (err: unknown): { ok: false; error: Error } => ({ ok: false, error: err instanceof Error ? err : new Error(String(err)) })

/** One run of a handler under way: what ends it needs (its span, when it started). */
interface HandlerRun {
  running: Promise<void>
  started: number
  span?: Span
}
