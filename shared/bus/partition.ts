import { createHash } from 'node:crypto'
import { partitionKeyOf } from '../contracts/partition-keys.ts'
import { Headers } from './headers.ts'

/**
 * Hash slots a partition key falls into. Fixed for ever: a slot is computed at
 * publish (and stored in outbox rows), so changing this would send a key's
 * later events to another partition than its earlier ones. A consumer with
 * `count` partitions takes slot s on partition s % count, so any count up to
 * 256 spreads keys evenly, and changing a consumer's count needs only a drain.
 */
export const PARTITION_SLOTS = 256

/** The stable slot of a key: the first two bytes of its SHA-1, modulo the slots (same in every process and language). */
export function partitionSlot(key: string): number {
  const digest = createHash('sha1').update(key, 'utf8').digest()
  return digest.readUInt16BE(0) % PARTITION_SLOTS
}

/** The partition queue index a slot goes to, for a consumer with `count` partitions. */
export const partitionOfSlot = (slot: number, count: number): number => slot % count

/**
 * The headers routing an event to its partition, for every event whose routing
 * key declares a partition key (shared/contracts/partition-keys.ts); none otherwise.
 * Both carry the slot: `x-bazaar-partition` is the contract's header, and
 * `bazaar-partition` is the one the partition exchanges match on, because a
 * RabbitMQ headers exchange ignores every header whose name starts with `x-`.
 */
export function partitionHeaders(routingKey: string, payload: unknown): Record<string, number> {
  const key = partitionKeyOf(routingKey, payload)
  if (key === undefined) return {}
  const slot = partitionSlot(key)
  return { [Headers.partition]: slot, [Headers.partitionMatch]: slot }
}
