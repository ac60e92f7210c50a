import type { Channel } from 'amqplib'
import { names } from '../../../shared/bus/names.ts'

/** The routing keys the storefront projection is built from; the log keeps these and nothing else. */
export const loggedKeys = ['user.*', 'product.*', 'order.*'] as const

/** `<ns>.storefronts.event-log`: the replayable log of the domain events (a RabbitMQ stream). */
export function eventLogQueue(namespace: string): string {
  return names.queue(namespace, 'storefronts', 'event-log')
}

/**
 * The stream's arguments. Retention is by age (`x-max-age`, whole seconds) when one is set;
 * without it the stream keeps everything (segments of 500 MB on disk), so a rebuild can
 * start from offset 0. Only arguments RabbitMQ 3.10 and 4.x both take.
 */
export function eventLogArguments(retentionMs: number): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 500_000_000 }
  if (retentionMs > 0) args['x-max-age'] = `${Math.max(1, Math.ceil(retentionMs / 1000))}s`
  return args
}

/**
 * Declares the log and binds it to the events exchange: from then on every
 * user.*, product.* and order.* event published is kept in it, in the order
 * the broker received them. Idempotent; runs at every start. A retention
 * different from the existing stream's is refused by the broker (406), so it
 * is changed with a policy instead (docs/read-models.md).
 */
export async function declareEventLog(channel: Channel, namespace: string, retentionMs: number): Promise<string> {
  const exchange = names.eventsExchange(namespace)
  const queue = eventLogQueue(namespace)
  await channel.assertExchange(exchange, 'topic', { durable: true })
  await channel.assertQueue(queue, { durable: true, arguments: eventLogArguments(retentionMs) })
  for (const key of loggedKeys) await channel.bindQueue(queue, exchange, key)
  return queue
}
