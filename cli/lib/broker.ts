import type { Channel } from 'amqplib'
import { BusConnection } from '../../shared/bus/connection.ts'
import type { Publisher } from '../../shared/bus/publisher.ts'
import { QueueInspector, type QueueState } from '../../shared/ops/inspector.ts'
import type { CliContext } from './context.ts'

export type { QueueState } from '../../shared/ops/inspector.ts'

/**
 * The CLI's AMQP side: one connection (named `<ns>.cli` in the management UI),
 * channels on demand, and a confirmed publisher with appId `cli`.
 */
export class Broker {
  /** exact depths by passive declare (shared/ops, as the console at /ops reads them) */
  readonly inspector = new QueueInspector(() => this.channel())
  private publisherInstance?: Publisher
  private readonly channels = new Set<Channel>()

  private constructor(
    readonly connection: BusConnection,
    readonly namespace: string
  ) {}

  /** Connects or fails with one line naming the URL (BROKER_UNREACHABLE). */
  static async open(context: CliContext): Promise<Broker> {
    const connection = new BusConnection({ url: context.env.amqpUrl, urls: context.env.amqpUrls, name: `${context.namespace}.cli`, initialRetries: 1 })
    await connection.connect()
    return new Broker(connection, context.namespace)
  }

  /** A new plain channel, closed with the broker. */
  async channel(): Promise<Channel> {
    const model = await this.connection.channelModel()
    const channel = await model.createChannel()
    channel.on('error', () => {}) // e.g. 404 on a passive declare: the caller sees the rejected promise
    channel.on('close', () => this.channels.delete(channel))
    this.channels.add(channel)
    return channel
  }

  /** Exact ready count and consumers of a queue, or undefined when it does not exist. */
  inspect(queue: string): Promise<QueueState | undefined> {
    return this.inspector.inspect(queue)
  }

  async publisher(): Promise<Publisher> {
    if (!this.publisherInstance) {
      // Loaded on first use: it brings the contracts' schemas, which reading commands do not need.
      const { Publisher } = await import('../../shared/bus/publisher.ts')
      this.publisherInstance = new Publisher(this.connection, { namespace: this.namespace, appId: 'cli' })
      await this.publisherInstance.start()
    }
    return this.publisherInstance
  }

  async close(): Promise<void> {
    await this.publisherInstance?.close()
    for (const channel of [...this.channels]) await channel.close().catch(() => {})
    await this.connection.close()
  }
}

/** Runs `work` with an open broker, closing it afterwards whatever happens. */
export async function withBroker<T>(context: CliContext, work: (broker: Broker) => Promise<T>): Promise<T> {
  const broker = await Broker.open(context)
  try {
    return await work(broker)
  } finally {
    await broker.close()
  }
}
