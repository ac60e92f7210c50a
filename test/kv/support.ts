import { Bus } from '../../shared/bus/bus.ts'
import type { BazaarEnv } from '../../shared/config/env.ts'
import { referenceFeed } from '../../shared/kv/reference.ts'
import { KvReplica } from '../../shared/kv/replica.ts'
import { Management } from '../../shared/testing/index.ts'

export type ReferenceReplica = KvReplica<typeof referenceFeed.stores>

/**
 * Replicas of the reference feed in one test namespace, fed by the broker
 * alone, each on a bus of its own (so one connection can be closed), and a
 * writer bus that publishes changes the way the owner's outbox relay does.
 * `close()` stops them all and removes the namespace's queues.
 */
export class ReplicaFixture {
  readonly buses: Bus[] = []
  readonly replicas: ReferenceReplica[] = []
  writer!: Bus

  constructor(
    readonly namespace: string,
    readonly env: Pick<BazaarEnv, 'amqpUrl' | 'namespace' | 'kvStream'>
  ) {}

  async open(): Promise<this> {
    this.writer = await this.bus('writer')
    return this
  }

  async bus(service: string): Promise<Bus> {
    const bus = new Bus({ url: this.env.amqpUrl, namespace: this.namespace, service })
    this.buses.push(bus)
    await bus.start()
    return bus
  }

  /** A replica on a bus of its own; started unless `start: false` (to listen to its first events). */
  async replica(name: string, options: { owner?: boolean; start?: boolean } = {}): Promise<{ replica: ReferenceReplica; bus: Bus }> {
    const bus = await this.bus(`${name}-${this.buses.length}`)
    const replica = new KvReplica({ feed: referenceFeed, bus, env: this.env, owner: options.owner })
    this.replicas.push(replica)
    if (options.start !== false) await replica.start()
    return { replica, bus }
  }

  async close(): Promise<void> {
    for (const r of this.replicas) await r.stop()
    for (const bus of this.buses.reverse()) await bus.stop()
    await new Management().deleteNamespace(this.namespace)
  }
}
