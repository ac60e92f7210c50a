import type { Channel } from 'amqplib'

/**
 * Topology as data: what a service needs on the broker, declared in one place,
 * so it can be re-declared on every reconnect, printed by `bazaar topology show`
 * and compared with the broker by `bazaar topology verify`.
 */
export interface ExchangeSpec {
  name: string
  type: 'topic' | 'fanout' | 'direct'
  arguments?: Record<string, unknown>
}

export type QueuePurpose = 'work' | 'retry' | 'dead-letter' | 'stream'

export interface QueueSpec {
  name: string
  /** which service consumes it */
  service: string
  purpose: QueuePurpose
  arguments: Record<string, unknown>
}

export interface BindingSpec {
  exchange: string
  queue: string
  routingKey: string
}

export interface Topology {
  exchanges: ExchangeSpec[]
  queues: QueueSpec[]
  bindings: BindingSpec[]
}

export const emptyTopology = (): Topology => ({ exchanges: [], queues: [], bindings: [] })

/** Unions topologies; the same exchange or queue declared twice appears once. */
export function mergeTopologies(...parts: Topology[]): Topology {
  const exchanges = new Map<string, ExchangeSpec>()
  const queues = new Map<string, QueueSpec>()
  const bindings = new Map<string, BindingSpec>()
  for (const part of parts) {
    for (const e of part.exchanges) exchanges.set(e.name, e)
    for (const q of part.queues) queues.set(q.name, q)
    for (const b of part.bindings) bindings.set(`${b.exchange}|${b.queue}|${b.routingKey}`, b)
  }
  return { exchanges: [...exchanges.values()], queues: [...queues.values()], bindings: [...bindings.values()] }
}

/** Quorum queue arguments shared by every durable queue Bazaar declares. */
export const quorum = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  'x-queue-type': 'quorum',
  ...extra
})

/** How long a stream keeps its messages: whichever limit is reached first removes its oldest segments. */
export interface StreamRetention {
  /** milliseconds (sent as `x-max-age` in seconds, the unit 3.10 and 4.x both read) */
  maxAgeMs?: number
  /** `x-max-length-bytes` */
  maxLengthBytes?: number
  /**
   * `x-stream-max-segment-size-bytes`: retention removes whole segments, so a
   * small stream needs small segments for its limits to bite (broker default 500 MB)
   */
  maxSegmentSizeBytes?: number
}

/**
 * A stream queue (x-queue-type stream): a replayable, append-only log every
 * reader reads at its own offset, replicated like a quorum queue. Declared by
 * its writer and by each reader with the same arguments.
 */
export function streamQueue(name: string, service: string, retention: StreamRetention = {}): QueueSpec {
  const args: Record<string, unknown> = { 'x-queue-type': 'stream' }
  if (retention.maxAgeMs !== undefined) args['x-max-age'] = `${Math.max(1, Math.ceil(retention.maxAgeMs / 1000))}s`
  if (retention.maxLengthBytes !== undefined) args['x-max-length-bytes'] = retention.maxLengthBytes
  if (retention.maxSegmentSizeBytes !== undefined) args['x-stream-max-segment-size-bytes'] = retention.maxSegmentSizeBytes
  return { name, service, purpose: 'stream', arguments: args }
}

/** Declares everything; idempotent, so it runs on every (re)connect. */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: true, arguments: exchange.arguments })
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments })
  }
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey)
  }
}
