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

/** The header a partition exchange matches slot `slot` on. */
export const slotHeader = (slot: number): string => `${Headers.partitionMatchPrefix}${slot}`

/**
 * The headers routing an event to its partition, for every event whose routing
 * key declares a partition key (shared/contracts/partition-keys.ts); none otherwise.
 * `x-bazaar-partition` is the contract's header, the slot as a number. The
 * partition exchanges cannot match on it (a RabbitMQ headers exchange ignores
 * every header whose name starts with `x-`), so the slot also comes as a header
 * of its own, `bazaar-slot-<slot>: true`: then each partition queue needs one
 * `x-match: any` binding listing its slots, rather than one binding per slot
 * (256 bindings made publishing through the exchange 2.5 to 4 times slower here).
 */
export function partitionHeaders(routingKey: string, payload: unknown): Record<string, number | boolean> {
  const headers: Record<string, number | boolean> = {}
  addPartitionHeaders(headers, routingKey, payload)
  return headers
}

/** partitionHeaders() written into `headers`: a message's properties are built without an object to copy from. */
export function addPartitionHeaders(headers: Record<string, unknown>, routingKey: string, payload: unknown): void {
  const key = partitionKeyOf(routingKey, payload)
  if (key === undefined) return
  const slot = partitionSlot(key)
  headers[Headers.partition] = slot
  headers[slotHeader(slot)] = true
}
