import type { RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import type { Logger } from '../log/logger.ts'
import type { FailureRecord } from './dead-letter.ts'
import { parseBody, toEnvelope, type HandlerOutcome } from './delivery.ts'
import type { Envelope } from './envelope.ts'
import { PoisonMessageError } from './errors.ts'
import { names } from './names.ts'
import { asDelivery, type HeadOutcome, type ParkedMessage, type ParkStore } from './park-store.ts'
import type { ConsumeMessage } from 'amqplib'

export interface ParkedInfo {
  /** the consumer (its queue name without partition) */
  queue: string
  key: string
  messageId: string
  error: string
  attempts: number
}

/** What the parking machinery tells the consumer, which re-emits it ('parked', 'unparked'). */
export interface ParkEvents {
  parked(info: ParkedInfo): void
  unparked(info: { queue: string; key: string }): void
}

export interface ParkRetrierOptions {
  queue: string
  parkAfterAttempts: number
  retryDelaysMs: readonly number[]
  pollMs: number
  host: {
    readonly logger?: Logger
    handlerFor(routingKey: string): ((message: Envelope) => Promise<void>) | undefined
    runHandler(handler: (message: Envelope) => Promise<void>, envelope: Envelope): Promise<HandlerOutcome>
    deadLetterParked(message: ConsumeMessage, failure: FailureRecord): Promise<void>
    emit: ParkEvents
  }
}

/**
 * Retries parked keys, in every process of the consumer: takes a key that is
 * due (its row locked, SKIP LOCKED, so two processes never retry one key at
 * once), runs its head message, and on success removes it and makes the next
 * due at once, so a key drains in order and is unparked when empty. A head
 * that fails again waits longer (parkRetryDelaysMs). The head's removal
 * commits after the handler's effect: a crash between the two runs the head
 * again, which the inbox (`idempotent`) turns into a no-op.
 */
export class ParkRetrier {
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private again = false
  private stopped = true

  constructor(
    private readonly store: ParkStore,
    private readonly options: ParkRetrierOptions
  ) {}

  start(): void {
    this.stopped = false
    this.timer = setInterval(() => this.kick(), this.options.pollMs)
    this.timer.unref()
    this.kick()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }

  /** One pass over the due keys, unless one is running (then another right after it). */
  kick(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.pass()
      .catch((err: unknown) => this.options.host.logger?.warn({ err: (err as Error).message, queue: this.options.queue }, 'parked key retry failed; trying again later'))
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.kick()
        }
      })
  }

  private async pass(): Promise<void> {
    const { queue, host } = this.options
    while (!this.stopped) {
      const done = await this.store.withDueKey(queue, ({ key, partition, attempts, head }) => this.retryHead(key, partition, attempts, head))
      if (!done) return
      if (done.outcome === 'unparked') {
        host.logger?.info({ queue, key: done.key }, 'key unparked: its parked messages are all handled')
        host.emit.unparked({ queue, key: done.key })
      }
    }
  }

  private async retryHead(key: string, partition: number, attempts: number, head: ParkedMessage | undefined): Promise<HeadOutcome> {
    if (!head) return { kind: 'missing' }
    const { host, parkAfterAttempts, retryDelaysMs } = this.options
    const delivery = asDelivery(head)
    const failure = (kind: FailureRecord['kind'], error: string, attempt: number): FailureRecord => ({
      kind, error, attempts: attempt, queue: names.partitionQueue(this.options.queue, partition), routingKey: head.routingKey, exchange: head.exchange
    })
    const attempt = parkAfterAttempts + attempts + 1
    // It was valid when parked; the contract may have changed since (a deploy), and the handler may be gone.
    const parsed = parseBody(delivery)
    const check = parsed.ok ? checkContract(head.routingKey, parsed.value, parsed.text) : { ok: false as const, reason: parsed.reason }
    const handler = host.handlerFor(head.routingKey)
    if (!check.ok || !handler) {
      await host.deadLetterParked(delivery, failure('contract', check.ok ? `${this.options.queue} has no handler for ${head.routingKey}` : check.reason, attempt - 1))
      return { kind: 'dead-lettered' }
    }
    const outcome = await host.runHandler(handler, toEnvelope(delivery, head.routingKey as RoutingKey, check.payload, attempt))
    if (outcome.ok) return { kind: 'handled' }
    if (outcome.error instanceof PoisonMessageError) {
      await host.deadLetterParked(delivery, failure('handler', outcome.error.message, attempt))
      return { kind: 'dead-lettered' }
    }
    host.logger?.warn({ err: outcome.error.message, queue: this.options.queue, key, messageId: head.messageId, attempt }, 'parked message failed again')
    const retryInMs = retryDelaysMs[Math.min(attempts + 1, retryDelaysMs.length - 1)] ?? 60_000
    return { kind: 'failed', error: outcome.error.message, retryInMs }
  }
}
