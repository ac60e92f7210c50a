import { EventEmitter } from 'node:events'
import amqp from 'amqplib'
import type { ChannelModel } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import { redactUrl } from '../config/env.ts'
import { BusError } from './errors.ts'
import { HostRotation } from './hosts.ts'

/**
 * Something that lives on a connection and must be set up again on every
 * (re)connect, since channels die with their connection: a `ChannelSlot`,
 * which every publisher, consumer and listener of the bus works through.
 */
export interface ConnectionParticipant {
  readonly label: string
  attach(model: ChannelModel): Promise<void>
}

export interface BusConnectionOptions {
  url: string
  /**
   * a cluster's brokers (AMQP_URL comma-separated, `readEnv().amqpUrls`): when it lists more than one,
   * each attempt goes to the next of them after a failed attempt or a dropped connection; `url` is then ignored
   */
  urls?: string[]
  /** shown in the management UI and in `bazaar status` */
  name: string
  logger?: Logger
  /** seconds; the broker closes a connection that misses two */
  heartbeat?: number
  /** attempts before the first connection is given up: fail fast at start */
  initialRetries?: number
  /** reconnect backoff */
  minDelayMs?: number
  maxDelayMs?: number
}

/** how long one node of a host list may take to open a connection (amqplib's socket timeout, cleared once open) */
const hostListHandshakeTimeoutMs = 10_000

const defaults = { heartbeat: 10, initialRetries: 2, minDelayMs: 100, maxDelayMs: 5_000, urls: [] as string[] }

/**
 * One AMQP connection that heals itself: it reconnects with jittered exponential
 * backoff, re-runs every participant's setup (topology, channels, consumers),
 * and tells publishers to wait while the broker has blocked it.
 */
export class BusConnection extends EventEmitter {
  readonly options: Required<Omit<BusConnectionOptions, 'logger'>> & { logger?: Logger }
  private model?: amqp.RecoveringChannelModel
  private participants: ConnectionParticipant[] = []
  private current?: ChannelModel
  private blockedReason?: string
  private unblockWaiters: Array<() => void> = []
  private closing = false
  /** set when `urls` lists several brokers */
  private hosts?: HostRotation
  /** participants the running setup has attached, so 'connect' can catch up with late registrations */
  private attachedBySetup = new Set<ConnectionParticipant>()

  constructor(options: BusConnectionOptions) {
    super()
    this.options = { ...defaults, ...options, urls: options.urls ?? [] }
  }

  get isConnected(): boolean {
    return this.current !== undefined
  }

  get isBlocked(): boolean {
    return this.blockedReason !== undefined
  }

  /** the broker this connection uses (or tries next), credentials hidden */
  get broker(): string {
    return redactUrl(this.hosts?.current ?? this.options.url)
  }

  /** Opens the connection; rejects with one clear BROKER_UNREACHABLE line. */
  async connect(): Promise<void> {
    const { url, urls, name, heartbeat, initialRetries, minDelayMs, maxDelayMs, logger } = this.options
    let target: string | HostRotation['target']
    let retries = initialRetries
    if (urls.length > 1) {
      this.hosts = new HostRotation(urls, heartbeat)
      target = this.hosts.target
      // every broker of the list gets the attempts a single one would have before giving up
      // (an initialRetries left undefined by the Bus means amqplib's default, retry for ever, as for one URL)
      if (Number.isFinite(initialRetries)) retries = (initialRetries + 1) * urls.length - 1
    } else {
      const single = new URL(urls[0] ?? url)
      single.searchParams.set('heartbeat', String(heartbeat))
      target = single.toString()
    }
    const model = await amqp.connect(target, {
      clientProperties: { connection_name: name },
      // with a host list, a node that takes the TCP connection but never finishes the handshake (booting,
      // out of file handles) must count as unreachable, or the rotation would wait on it for ever
      ...(this.hosts ? { timeout: hostListHandshakeTimeoutMs } : {}),
      recovery: {
        initialDelay: minDelayMs,
        maxDelay: maxDelayMs,
        factor: 2,
        jitter: 0.3,
        initialMaxRetries: retries,
        maxRetries: Infinity,
        waitForConnect: false,
        setup: (raw: ChannelModel) => this.setup(raw)
      }
    })
    this.model = model
    model.on('connect', (raw: ChannelModel) => {
      this.current = raw
      // registered between the end of setup and now: not attached yet
      for (const participant of this.participants.filter((p) => !this.attachedBySetup.has(p))) this.reattach(participant, raw, 0)
      this.attachedBySetup.clear()
      logger?.info({ connection: name }, 'connected to RabbitMQ')
      this.emit('connect')
    })
    model.on('disconnect', (err: Error) => {
      this.current = undefined
      this.releaseBlock()
      // amqplib schedules the next attempt right after this event: it goes to the next broker
      const next = this.hosts ? redactUrl(this.hosts.advance()) : undefined
      if (!this.closing) logger?.warn({ connection: name, err: err.message, next }, 'lost RabbitMQ connection, reconnecting')
      this.emit('disconnect', err)
    })
    model.on('connect-failed', (err: Error) => {
      if (!this.hosts) return
      const failed = this.broker
      const next = redactUrl(this.hosts.advance())
      logger?.warn({ connection: name, broker: failed, err: describeFailure(err), next }, 'RabbitMQ node unreachable, trying the next')
    })
    model.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) =>
      logger?.debug({ attempt, delay }, 'reconnect scheduled')
    )
    model.on('blocked', (reason: string) => {
      this.blockedReason = reason
      logger?.warn({ reason }, 'broker blocked the connection; publishing paused')
      this.emit('blocked', reason)
    })
    model.on('unblocked', () => {
      this.releaseBlock()
      logger?.info('broker unblocked the connection; publishing resumed')
      this.emit('unblocked')
    })
    // Protocol errors also arrive as 'disconnect'; the listener keeps them from crashing the process.
    model.on('error', (err: Error) => logger?.debug({ err: err.message }, 'connection error'))
    model.on('handler-error', (err: Error, event: string) => logger?.error({ err, event }, 'listener threw'))
    try {
      await model.waitForConnect()
    } catch (err) {
      const cause = describeFailure(err)
      const where = this.hosts ? `any of ${this.hosts.urls.map(redactUrl).join(', ')}` : redactUrl(urls[0] ?? url)
      throw new BusError(
        'BROKER_UNREACHABLE',
        `cannot reach RabbitMQ at ${where} (${cause}); start it (rabbitmq-server -detached) or set AMQP_URL`,
        { cause: err }
      )
    }
  }

  /** Adds a participant; if already connected it is attached now, and again after each reconnect. */
  async register(participant: ConnectionParticipant): Promise<void> {
    this.participants.push(participant)
    const model = this.current
    if (!model) return // attached by the setup of the connection being (re)established
    try {
      await participant.attach(model)
    } catch (err) {
      // The connection died under the attach: the next setup attaches it. Any other failure is the caller's.
      if (this.current === model) throw err
    }
  }

  /**
   * A participant's channel closed while its connection may still be up (a
   * channel-level error such as a 404 or 406): set it up again on that same
   * connection, after a pause, with backoff while it keeps failing. If the
   * connection itself went, setup on reconnect takes care of it instead.
   */
  reattach(participant: ConnectionParticipant, model: ChannelModel, delayMs = this.options.minDelayMs): void {
    const timer = setTimeout(() => {
      if (this.closing || this.current !== model || !this.participants.includes(participant)) return
      participant.attach(model).catch((err: Error) => {
        this.options.logger?.error({ err: err.message, participant: participant.label }, 'could not reopen channel; retrying')
        this.reattach(participant, model, Math.min(delayMs * 2, this.options.maxDelayMs))
      })
    }, delayMs)
    timer.unref()
  }

  unregister(participant: ConnectionParticipant): void {
    this.participants = this.participants.filter((p) => p !== participant)
  }

  /** The live connection, for a one-off channel (e.g. the CLI); waits while reconnecting. */
  async channelModel(): Promise<ChannelModel> {
    if (this.current) return this.current
    if (!this.model) throw new BusError('CONNECTION_CLOSED', 'connection not opened')
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => { cleanup(); resolve() }
      const onFail = (err: Error) => { cleanup(); reject(new BusError('CONNECTION_CLOSED', err.message)) }
      const cleanup = () => { this.off('connect', onConnect); this.model?.off('reconnect-failed', onFail) }
      this.once('connect', onConnect)
      this.model?.once('reconnect-failed', onFail)
    })
    return this.current!
  }

  /** Resolves at once unless the broker has blocked this connection (resource alarm). */
  whenUnblocked(): Promise<void> {
    if (!this.blockedReason) return Promise.resolve()
    return new Promise((resolve) => this.unblockWaiters.push(resolve))
  }

  async close(): Promise<void> {
    this.closing = true
    this.releaseBlock()
    await this.model?.close().catch(() => {})
    this.current = undefined
  }

  private async setup(raw: ChannelModel): Promise<void> {
    raw.on('error', () => {})
    this.attachedBySetup.clear()
    for (const participant of this.participants) {
      try {
        this.attachedBySetup.add(participant)
        await participant.attach(raw)
      } catch (err) {
        this.options.logger?.error({ err, participant: participant.label }, 'setup after connect failed')
        throw err
      }
    }
  }

  private releaseBlock(): void {
    this.blockedReason = undefined
    for (const resolve of this.unblockWaiters.splice(0)) resolve()
  }
}

/** One line for why a connect failed; a refused dual-stack connect is an AggregateError with an empty message. */
function describeFailure(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map(describeFailure).join(', ')
  if (err instanceof Error) return (err.message || (err as { code?: string }).code || err.name).split('\n')[0]!
  return String(err)
}
