import { Gauge, Histogram, type Registry } from 'prom-client'
import type { KvReplicaEvents } from '../kv/replica.ts'
import { SECONDS_BUCKETS } from './registry.ts'

/** What a KV replica offers to be measured: its `changed` events and whether it has caught up. */
export interface MeasuredReplica {
  readonly ready: boolean
  on(event: 'changed', listener: (...args: KvReplicaEvents['changed']) => void): unknown
}

/**
 * KV replica lag: the time from a change's `changedAt` (the owner's clock) to its being applied here,
 * for live changes only (while catching up, old changes would read as lag), by store; and whether
 * each feed's replica is caught up. Families made on the first replica an app watches.
 */
export class KvMetrics {
  private propagation?: Histogram
  private ready?: Gauge
  private readonly replicas = new Map<string, MeasuredReplica>()

  constructor(private readonly registry: Registry) {}

  watch(feed: string, replica: MeasuredReplica): void {
    this.propagation ??= new Histogram({
      name: 'bazaar_kv_propagation_seconds',
      help: 'From a KV change (its changedAt) to this replica applying it, live changes only',
      labelNames: ['store'],
      buckets: SECONDS_BUCKETS,
      registers: [this.registry]
    })
    const replicas = this.replicas
    this.ready ??= new Gauge({
      name: 'bazaar_kv_replica_ready',
      help: 'Whether the replica of a KV feed has caught up (1) or not (0)',
      labelNames: ['feed'],
      registers: [this.registry],
      collect() {
        for (const [name, r] of replicas) this.labels(name).set(r.ready ? 1 : 0)
      }
    })
    replicas.set(feed, replica)
    const propagation = this.propagation
    const children = new Map<string, ReturnType<Histogram['labels']>>()
    replica.on('changed', (store, _key, _version, changedAt) => {
      if (!replica.ready) return
      const at = Date.parse(changedAt)
      if (!Number.isFinite(at)) return
      let child = children.get(store)
      if (!child) children.set(store, (child = propagation.labels(store)))
      child.observe(Math.max(0, Date.now() - at) / 1000)
    })
  }
}
