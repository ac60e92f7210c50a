import { names } from '../../../shared/bus/names.ts'
import { streamQueue, type QueueSpec, type Topology } from '../../../shared/bus/topology.ts'

/** The routing keys the storefront projection is built from; the log keeps these and nothing else. */
export const loggedKeys = ['user.*', 'product.*', 'order.*'] as const

/** `<ns>.storefronts.event-log`: the replayable log of the domain events (a RabbitMQ stream). */
export function eventLogQueue(namespace: string): string {
  return names.queue(namespace, 'storefronts', 'event-log')
}

/**
 * The stream. Retention is by age (`x-max-age`) when one is set; without it
 * the stream keeps everything, so a rebuild can start from offset 0.
 */
export function eventLogSpec(namespace: string, retentionMs: number): QueueSpec {
  return streamQueue(eventLogQueue(namespace), 'storefronts', retentionMs > 0 ? { maxAgeMs: retentionMs } : {})
}

/**
 * The log and its bindings to the events exchange: from its first
 * declaration on, every user.*, product.* and order.* event published is
 * kept, in the order the broker received them. Declared at every start. A
 * retention different from the existing stream's is refused by the broker
 * (406), so it is changed with a policy instead (docs/read-models.md).
 */
export function eventLogTopology(namespace: string, retentionMs: number): Topology {
  const exchange = names.eventsExchange(namespace)
  const queue = eventLogSpec(namespace, retentionMs)
  return {
    exchanges: [{ name: exchange, type: 'topic' }],
    queues: [queue],
    bindings: loggedKeys.map((routingKey) => ({ exchange, queue: queue.name, routingKey }))
  }
}
