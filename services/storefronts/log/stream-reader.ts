import type { Channel, ConsumeMessage } from 'amqplib'
import { Coalescer } from '../../../shared/batch/coalescer.ts'
import { ChannelSlot } from '../../../shared/bus/channel-slot.ts'
import type { BusConnection } from '../../../shared/bus/connection.ts'
import type { Logger } from '../../../shared/log/logger.ts'

/** One message of the log, with its place in it. */
export interface LogEntry {
  /** the stream offset: dense, in the order the broker appended */
  offset: number
  routingKey: string
  message: ConsumeMessage
}

export interface StreamReaderSpec {
  queue: string
  label: string
  /** the offset to read from, asked again on every (re)attach: the owner's stored position + 1 */
  from(): Promise<number>
  /** handles one batch, in log order; the next waits for it. A failure reopens the channel at from(). */
  handle(batch: LogEntry[]): Promise<void>
  prefetch?: number
  maxBatch?: number
  logger?: Logger
}

interface Pending {
  generation: number
  channel: Channel
  entry: LogEntry
}

/**
 * Reads a stream queue from an offset the owner keeps (x-stream-offset), in
 * batches handed over one at a time. It keeps no position of its own: after a
 * failed batch or a lost channel it attaches again and asks `from()`, so what
 * the owner committed is exactly where reading resumes.
 */
export class StreamReader {
  private readonly slot: ChannelSlot
  private readonly batches: Coalescer<Pending>
  /** a new one on every attach: entries of an earlier channel are dropped unhandled */
  private generation = 0
  private stopped = false

  constructor(
    connection: BusConnection,
    private readonly spec: StreamReaderSpec
  ) {
    const prefetch = spec.prefetch ?? 1_000
    this.batches = new Coalescer((items) => this.handOver(items), { maxBatch: spec.maxBatch ?? 500, capacity: prefetch })
    this.slot = new ChannelSlot(connection, { label: spec.label, mode: 'plain', logger: spec.logger, setup: (channel) => this.consume(channel, prefetch) })
  }

  async start(): Promise<void> {
    this.stopped = false
    await this.slot.start()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.generation++
    const channel = this.slot.detach()
    await this.batches.idle()
    await channel?.close().catch(() => {})
  }

  private async consume(channel: Channel, prefetch: number): Promise<void> {
    const generation = ++this.generation
    const offset = await this.spec.from()
    // streams need a prefetch, and acks only to give credit back
    await channel.prefetch(prefetch, false)
    await channel.consume(
      this.spec.queue,
      (message) => {
        if (!message) return
        const entry = { offset: Number(message.properties.headers?.['x-stream-offset']), routingKey: message.fields.routingKey, message }
        void this.batches.add({ generation, channel, entry }).catch(() => {})
      },
      { noAck: false, arguments: { 'x-stream-offset': offset } }
    )
  }

  private async handOver(items: Pending[]): Promise<void> {
    const current = items.filter((item) => item.generation === this.generation)
    if (current.length === 0 || this.stopped) return
    const last = current[current.length - 1]!
    try {
      await this.spec.handle(current.map((item) => item.entry))
      last.channel.ack(last.entry.message, true)
    } catch (err) {
      this.spec.logger?.warn({ err: (err as Error).message, reader: this.spec.label }, 'log batch not applied; reading again from the stored position')
      // everything delivered on this channel after the failed batch is dropped with it
      this.generation++
      await last.channel.close().catch(() => {})
    }
  }
}
