/**
 * What the partitioned consumer tests share: replicas of one service whose
 * consumer keeps per-key order (claim.opened, keyed by claimId), an effect
 * table that records the order effects committed in, and a publisher.
 */
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer, ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import type { PartitionOptions } from '../../shared/bus/partition-topology.ts'
import { CLAIM_OPENED, type ClaimOpened } from '../../shared/contracts/order.ts'
import { readEnv } from '../../shared/config/env.ts'
import { createKnex } from '../../shared/db/database.ts'
import { busSchema, startBus } from './support.ts'

const env = readEnv()

export const SERVICE = 'claimdesk'
export const PURPOSE = 'claims'

/** The test service's partitioned consumer, as a service's topology.ts declares it. */
export const claimdeskDeclaration = (partitions?: PartitionOptions): ConsumerDeclaration => ({
  service: SERVICE,
  purpose: PURPOSE,
  bindings: ['claim.#'],
  ...(partitions ? { partitions } : {})
})

/** For `bazaar --declarations`: what the CLI reads from a service's topology.ts. */
export const consumers: ConsumerDeclaration[] = [claimdeskDeclaration({ count: 2 })]

/** claim.opened for `key`, its sequence number in `reason`. */
export function claimEvent(key: string, seq: number): ClaimOpened {
  return { claimId: key, orderId: 'order-1', buyerId: 'buyer-1', reason: String(seq), openedAt: new Date().toISOString() }
}

export const seqOf = (message: Envelope<typeof CLAIM_OPENED>) => Number(message.payload.reason)

/** The service's schema with the bus tables and the effects table. */
export async function claimdeskSchema(namespace: string): Promise<{ db: Knex; schema: string }> {
  const { db, schema } = await busSchema(namespace, SERVICE)
  await db.raw(`create table if not exists ??.effects (id bigserial primary key, key text not null, seq int not null, unique (key, seq))`, [schema])
  return { db, schema }
}

export interface Replica {
  bus: Bus
  consumer: Consumer
  /** stops its bus, then closes its pool */
  stop(): Promise<void>
}

/**
 * One replica: its own bus (connection), its own pool (as a process of its
 * own has: replicas do not queue for each other's connections) and the
 * partitioned consumer, whose effect records (key, seq) in the inbox's
 * transaction, after `beforeCommit`, which may throw to fail the attempt (the
 * effect then rolls back).
 */
export async function startReplica(
  namespace: string,
  database: { db: Knex; schema: string },
  options: { partitions?: PartitionOptions; prefetch?: number; batch?: boolean; beforeCommit?: (key: string, seq: number) => void | Promise<void> }
): Promise<Replica> {
  const own = { db: createKnex(env.databaseUrl, database.schema, { min: 0, max: 10 }), schema: database.schema }
  const bus = await startBus(namespace, SERVICE, { parking: own })
  const consumer = bus.consumer({
    ...claimdeskDeclaration(options.partitions),
    prefetch: options.prefetch,
    handlers: {
      [CLAIM_OPENED]: idempotent({ ...own, consumer: PURPOSE, batch: options.batch }, async (message, trx) => {
        const key = message.payload.claimId
        await trx.withSchema(database.schema).table('effects').insert({ key, seq: seqOf(message) })
        await options.beforeCommit?.(key, seqOf(message))
      })
    }
  })
  await bus.startConsumers()
  return { bus, consumer, stop: () => bus.stop().finally(() => own.db.destroy()) }
}

/** Each key's sequence numbers in the order their effects committed. */
export async function effectsByKey(database: { db: Knex; schema: string }): Promise<Map<string, number[]>> {
  const rows = (await database.db.withSchema(database.schema).table('effects').select('key', 'seq').orderBy('id')) as Array<{ key: string; seq: number }>
  const byKey = new Map<string, number[]>()
  for (const { key, seq } of rows) byKey.set(key, [...(byKey.get(key) ?? []), seq])
  return byKey
}

export async function effectCount(database: { db: Knex; schema: string }): Promise<number> {
  const [{ n }] = await database.db.withSchema(database.schema).table('effects').count({ n: '*' })
  return Number(n)
}

/** Publishes `perKey` events for each key, in sequence order per key, interleaved across keys. */
export async function publishInOrder(bus: Bus, keys: string[], perKey: number, seqs: (key: string) => number[] = () => range(perKey)): Promise<void> {
  const confirms: Promise<unknown>[] = []
  for (let seq = 0; seq < perKey; seq++) {
    for (const key of keys) if (seqs(key).includes(seq)) confirms.push(bus.publisher.publish(CLAIM_OPENED, claimEvent(key, seq)))
    // Bounded in flight; publishes on one channel keep their order whatever the batching.
    if (confirms.length >= 1_000) await Promise.all(confirms.splice(0))
  }
  await Promise.all(confirms)
}

export const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)
