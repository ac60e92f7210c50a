import amqp from 'amqplib'
import { readEnv } from '../config/env.ts'
import { names } from '../bus/names.ts'
import { waitFor } from './wait.ts'

export interface TappedEvent {
  routingKey: string
  payload: any
  messageId?: string
  appId?: string
  headers: Record<string, unknown>
}

/**
 * A test's own view of what services publish: a temporary queue bound to the
 * namespace's events exchange. `next` waits (bounded) for events that match.
 */
export class EventTap {
  readonly events: TappedEvent[] = []
  private constructor(private readonly connection: amqp.ChannelModel) {}

  static async open(namespace: string, bindings: string[], amqpUrl = readEnv().amqpUrl): Promise<EventTap> {
    const connection = await amqp.connect(amqpUrl)
    const tap = new EventTap(connection)
    const channel = await connection.createChannel()
    const exchange = names.eventsExchange(namespace)
    await channel.assertExchange(exchange, 'topic', { durable: true })
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true })
    for (const key of bindings) await channel.bindQueue(queue, exchange, key)
    await channel.consume(queue, (message) => {
      if (!message) return
      tap.events.push({
        routingKey: message.fields.routingKey,
        payload: JSON.parse(message.content.toString('utf8')),
        messageId: message.properties.messageId,
        appId: message.properties.appId,
        headers: (message.properties.headers ?? {}) as Record<string, unknown>
      })
    }, { noAck: true })
    return tap
  }

  /** Waits until `count` events match, and returns them in arrival order. */
  async next(match: (event: TappedEvent) => boolean, { count = 1, timeoutMs = 10_000, what = 'events' } = {}): Promise<TappedEvent[]> {
    return waitFor(() => {
      const found = this.events.filter(match)
      return found.length >= count ? found : undefined
    }, { timeoutMs, what: `${count} ${what}` })
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {})
  }
}
