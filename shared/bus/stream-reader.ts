import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Channel, ConsumeMessage, MessagePropertyHeaders } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import { ChannelSlot } from './channel-slot.ts'
import type { BusConnection } from './connection.ts'
import { ConsumerState, type ConsumerKind } from './consumer-kind.ts'
import { declareTopology, type QueueSpec, type Topology } from './topology.ts'

/**
 * Where a stream reader starts: the stream's first retained message, the
 * start of its last chunk, only what is written from now on, a given offset,
 * right after a message already read (its offset), or the first chunk written
 * at or after a time.
 */
export type StreamOffset = 'first' | 'last' | 'next' | { offset: number } | { after: number } | { timestamp: Date }

/** One message of a stream, as the stream reader hands it over. */
export interface StreamMessage {
  /** its position in the stream: contiguous, starting at 0 */
  offset: number
  /** the routing key it was published with (the queue's name when sent to it directly) */
  routingKey: string
  headers: MessagePropertyHeaders
  content: Buffer
  /** `type`, `messageId`, `appId`, ... as published */
  properties: ConsumeMessage['properties']
}

export interface StreamReaderSpec {
  /** shown in logs */
  label: string
  /** the stream queue, declared (idempotently) on every channel: see `streamQueue()` in topology.ts */
  stream: QueueSpec
  /** topic exchanges (declared durable) and routing keys to bind the stream to, e.g. the events exchange */
  bindings?: Array<{ exchange: string; routingKey: string }>
  /** where the first attach starts; later attaches resume after the last handled offset */
  from: StreamOffset
  /**
   * Handles one message; the next waits for it (offset order). A handler that
   * throws stops the reader at that message: its channel is reopened after a
   * pause and reading resumes at the same offset.
   */
  handle(message: StreamMessage): Promise<void> | void
  /** deliveries unacknowledged at once (a stream needs a prefetch; acks only give credit back) */
  prefetch?: number
  logger?: Logger
}

export interface StreamReaderEvents {
  /** consuming (again), starting at this position */
  consuming: [from: StreamOffset]
  /** handled the message at this offset */
  position: [offset: number]
  /**
   * asked to start at (or right after) `expected`, the stream's first delivery
   * was at `got`: retention removed that message and maybe more (the reader
   * goes on from `got`)
   */
  gap: [expected: number, got: number]
}

const isMemberStarting = (err: unknown) => /does not have a replica on the local node/.test((err as Error)?.message ?? '')

/** The header a probe carries: its id. Probes are the reader's own, never handed to `handle`. */
export const STREAM_PROBE_HEADER = 'x-bazaar-stream-probe'

/**
 * The stream kind: reads a RabbitMQ stream queue (x-queue-type stream)
 * through AMQP 0-9-1 with `x-stream-offset`, which works the same on 3.10
 * and 4.x. Messages are handed over one at a time, in offset order; the
 * reader knows the offset it is at and, when its channel comes back (channel
 * error, broker connection lost), resumes right after it. A stream keeps its
 * messages for every reader: acknowledging only returns prefetch credit.
 *
 * `caughtUp()` tells when the reader has read everything written to the
 * stream before the call: it appends a probe of its own to the stream and
 * waits to read it back (a stream has no "end" a consumer is told about).
 */
export class StreamReader extends EventEmitter<StreamReaderEvents> implements ConsumerKind {
  readonly kind = 'stream'
  private readonly slot: ChannelSlot
  private stateNow = ConsumerState.Idle
  private positionNow?: number
  /** the channel deliveries are taken from now; deliveries of an older one are ignored */
  private channelNow?: Channel
  /** the offset the current channel attached at, until its first delivery shows it is still there */
  private expected?: number
  private chain: Promise<void> = Promise.resolve()
  /** caughtUp() calls waiting for their probe: settled when it comes back, when they time out, or when the reader stops */
  private readonly probes = new Map<string, { resolve: () => void; reject: (err: Error) => void }>()

  constructor(
    connection: BusConnection,
    private readonly spec: StreamReaderSpec
  ) {
    super()
    this.slot = new ChannelSlot(connection, { label: spec.label, mode: 'plain', logger: spec.logger, setup: (channel) => this.consume(channel) })
    this.slot.on('lost', () => {
      this.channelNow = undefined
      if (this.stateNow === ConsumerState.Consuming) this.stateNow = ConsumerState.Reattaching
    })
  }

  get state(): ConsumerState {
    return this.stateNow
  }

  /** The offset of the last message handled, if any. */
  get position(): number | undefined {
    return this.positionNow
  }

  get stream(): string {
    return this.spec.stream.name
  }

  async start(): Promise<void> {
    this.stateNow = ConsumerState.Starting
    for (let attempt = 1; ; attempt++) {
      try {
        await this.slot.start()
        return
      } catch (err) {
        // A stream declared a moment ago may not have its member running on this node yet: RabbitMQ refuses the
        // consume (406 "does not have a replica on the local node") for the few milliseconds that takes.
        if (!isMemberStarting(err) || attempt >= 20) throw err
        this.slot.detach()
        await delay(Math.min(25 * 2 ** attempt, 1_000))
      }
    }
  }

  /** Stops reading, lets the message being handled finish, closes the channel. */
  async stop(): Promise<void> {
    this.stateNow = ConsumerState.Stopping
    const channel = this.slot.detach()
    this.channelNow = undefined
    await this.chain
    await channel?.close().catch(() => {})
    this.stateNow = ConsumerState.Stopped
    // a probe of a stopped reader never comes back: say so now rather than hold a timer (and the process) until it expires
    for (const probe of this.probes.values()) probe.reject(new Error(`${this.spec.label}: stopped before it caught up with ${this.stream}`))
    this.probes.clear()
  }

  /**
   * Resolves once every message written to the stream before this call has
   * been handled (bounded by `timeoutMs`; rejected at once if the reader is stopped first). The probe is sent again whenever the
   * channel is replaced, since one sent on a dying channel may be lost.
   */
  caughtUp({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    const id = randomUUID()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(id)
        reject(new Error(`${this.spec.label}: not caught up with ${this.stream} after ${timeoutMs} ms`))
      }, timeoutMs)
      this.probes.set(id, {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        }
      })
      if (this.channelNow) this.sendProbe(this.channelNow, id)
    })
  }

  private sendProbe(channel: Channel, id: string): void {
    try {
      channel.sendToQueue(this.stream, Buffer.from('{}'), { headers: { [STREAM_PROBE_HEADER]: id }, contentType: 'application/json' })
    } catch {
      // channel gone: the next one sends it again
    }
  }

  /**
   * A stream's offsets are not always contiguous (the broker's own chunks,
   * such as a segment's tracking snapshot, take some), so a reader resumes by
   * attaching at the last message it handled, which it knows existed, and
   * skips it: if that message is gone, the first delivery is later and says so.
   */
  private startingPoint(): StreamOffset {
    if (this.positionNow !== undefined) return { after: this.positionNow }
    const from = this.spec.from
    if (typeof from === 'object' && 'after' in from) this.positionNow = from.after
    return from
  }

  private async consume(channel: Channel): Promise<void> {
    await declareTopology(channel, streamTopology(this.spec.stream, this.spec.bindings))
    await channel.prefetch(this.spec.prefetch ?? 1000, false)
    const from = this.startingPoint()
    this.expected = typeof from !== 'object' ? undefined : 'offset' in from ? from.offset : 'after' in from ? from.after : undefined
    this.channelNow = channel
    await channel.consume(this.stream, (message) => {
      if (!message) {
        // The broker cancelled us (stream deleted): a new channel declares it again.
        if (this.stateNow !== ConsumerState.Stopping) void channel.close().catch(() => {})
        return
      }
      if (channel !== this.channelNow) return
      this.chain = this.chain.then(() => this.deliver(channel, message))
    }, { noAck: false, arguments: { 'x-stream-offset': offsetArgument(from) } })
    this.stateNow = ConsumerState.Consuming
    this.emit('consuming', from)
    for (const id of this.probes.keys()) this.sendProbe(channel, id)
  }

  private async deliver(channel: Channel, message: ConsumeMessage): Promise<void> {
    if (channel !== this.channelNow) return
    const headers = message.properties.headers ?? {}
    const offset = Number(headers['x-stream-offset'])
    try {
      if (this.expected !== undefined && offset >= this.expected) {
        if (offset > this.expected) this.emit('gap', this.expected, offset)
        this.expected = undefined
      }
      // A stream delivers from the start of the chunk holding the offset asked for: skip what came before it.
      if ((this.positionNow !== undefined && offset <= this.positionNow) || (this.expected !== undefined && offset < this.expected)) {
        ack(channel, message)
        return
      }
      const probe = headers[STREAM_PROBE_HEADER]
      if (probe === undefined) {
        await this.spec.handle({ offset, routingKey: message.fields.routingKey, headers, content: message.content, properties: message.properties })
      } else {
        this.probes.get(String(probe))?.resolve()
        this.probes.delete(String(probe))
      }
      this.positionNow = offset
      this.emit('position', offset)
      ack(channel, message)
    } catch (err) {
      this.spec.logger?.warn({ err: (err as Error).message, reader: this.spec.label, offset }, 'stream message not handled; reading again from it after a pause')
      // Closing the channel makes the slot open a new one (after a pause), which resumes at this offset.
      this.channelNow = undefined
      await channel.close().catch(() => {})
    }
  }
}

/** A stream with its bindings, as topology data (also for `bazaar topology show`). */
export function streamTopology(stream: QueueSpec, bindings: StreamReaderSpec['bindings'] = []): Topology {
  const exchanges = [...new Set(bindings.map((b) => b.exchange))].map((name) => ({ name, type: 'topic' as const }))
  return { exchanges, queues: [stream], bindings: bindings.map((b) => ({ ...b, queue: stream.name })) }
}

function ack(channel: Channel, message: ConsumeMessage): void {
  try {
    channel.ack(message)
  } catch {
    // channel gone: nothing to give credit back to
  }
}

/** `x-stream-offset` as the broker wants it: a keyword, a long, or an AMQP timestamp (seconds). */
function offsetArgument(from: StreamOffset): unknown {
  if (typeof from === 'string') return from
  if ('offset' in from) return { '!': 'long', value: from.offset }
  if ('after' in from) return { '!': 'long', value: from.after }
  return { '!': 'timestamp', value: Math.floor(from.timestamp.getTime() / 1000) }
}
