import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import type { BazaarEnv } from '../config/env.ts'
import { names } from '../bus/names.ts'
import { streamQueue, type QueueSpec, type StreamRetention } from '../bus/topology.ts'

/** The routing keys whose payload is a KV change: `{ key, version, value | null, changedAt }`. */
export type KvChangeKey = {
  [K in RoutingKey]: EventPayload<K> extends { key: string; version: number; value: unknown; changedAt: string } ? K : never
}[RoutingKey]

/** The value a store of a change key holds. */
export type KvValue<K extends KvChangeKey> = NonNullable<EventPayload<K>['value']>

/**
 * A feed: the stores one owner service publishes, store name to the routing
 * key of its changes. Everything about its streams follows from it.
 */
export interface KvFeed<S extends Record<string, KvChangeKey> = Record<string, KvChangeKey>> {
  owner: string
  stores: S
}

export interface KvStreams {
  /** every change of every store of the feed (bound to the events exchange) and the owner's snapshots */
  data: QueueSpec
  /** one small message per complete snapshot: where in `data` a reader starts */
  pointers: QueueSpec
  bindings: Array<{ exchange: string; routingKey: string }>
}

/** Pointers are tiny and only the newest matters: small segments so the byte limit keeps the stream a few hundred kB. */
const pointerRetention: StreamRetention = { maxLengthBytes: 1_000_000, maxSegmentSizeBytes: 100_000 }

export function kvStreams(feed: KvFeed, env: Pick<BazaarEnv, 'namespace' | 'kvStream'>): KvStreams {
  const exchange = names.eventsExchange(env.namespace)
  return {
    data: streamQueue(names.queue(env.namespace, feed.owner, 'kv'), feed.owner, env.kvStream),
    pointers: streamQueue(names.queue(env.namespace, feed.owner, 'kv-snapshots'), feed.owner, pointerRetention),
    bindings: Object.values(feed.stores).map((routingKey) => ({ exchange, routingKey }))
  }
}
