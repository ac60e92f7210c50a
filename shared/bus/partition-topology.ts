import { names } from './names.ts'
import { PARTITION_SLOTS, slotHeader } from './partition.ts'
import { quorum, type BindingSpec, type QueueSpec, type Topology } from './topology.ts'

/**
 * Per-key order for a consumer: its events are spread over `count` queues by
 * the hash slot of their partition key, each queue with a single active
 * consumer, so every event of one key is handled by one process, in order.
 */
export interface PartitionOptions {
  /** partition queues (1..256): the most processes that share the work at once */
  count: number
  /** handler runs in place, a short backoff apart, before the key is parked (default 3) */
  parkAfterAttempts?: number
  /** waits between those in-place runs (default [50, 200]; the last one repeats) */
  inPlaceDelaysMs?: number[]
  /** waits between the retries of a parked key's head message (default [1s, 5s, 30s, 60s]; the last one repeats) */
  parkRetryDelaysMs?: number[]
  /** how often each process looks for parked keys due for a retry (default 500 ms) */
  parkPollMs?: number
}

export const partitionDefaults = {
  parkAfterAttempts: 3,
  inPlaceDelaysMs: [50, 200],
  parkRetryDelaysMs: [1_000, 5_000, 30_000, 60_000],
  parkPollMs: 500
} as const

export function checkPartitionOptions(queue: string, options: PartitionOptions): void {
  const { count } = options
  if (!Number.isInteger(count) || count < 1 || count > PARTITION_SLOTS) {
    throw new Error(`${queue}: partitions.count must be an integer from 1 to ${PARTITION_SLOTS} (got ${count})`)
  }
  if (options.parkAfterAttempts !== undefined && (!Number.isInteger(options.parkAfterAttempts) || options.parkAfterAttempts < 1)) {
    throw new Error(`${queue}: partitions.parkAfterAttempts must be a positive integer`)
  }
}

/** The partition queues' names, in index order. */
export const partitionQueues = (queue: string, count: number): string[] =>
  Array.from({ length: count }, (_, index) => names.partitionQueue(queue, index))

/**
 * The broker side of a partitioned consumer: the events exchange binds (with
 * the consumer's patterns) to a headers exchange of its own, which sends slot
 * s to partition s % count; an event that carries no slot (a routing key
 * without a partition key, or published from outside) goes through the
 * alternate exchange to partition 0 rather than nowhere. (Slot s is matched by its
 * own header, partition.ts says why.) Partition queues are
 * quorum queues with a single active consumer; their dead letters (delivery
 * limit) go to the consumer's one dead-letter queue.
 */
export function partitionTopology(
  namespace: string,
  spec: { service: string; bindings: string[]; partitions: PartitionOptions },
  queue: string,
  workArguments: Record<string, unknown>
): Topology {
  checkPartitionOptions(queue, spec.partitions)
  const events = names.eventsExchange(namespace)
  const router = names.partitionExchange(queue)
  const unpartitioned = names.unpartitionedExchange(queue)
  const queues: QueueSpec[] = partitionQueues(queue, spec.partitions.count).map((name) => ({
    name,
    service: spec.service,
    purpose: 'work',
    arguments: quorum({ ...workArguments, 'x-single-active-consumer': true })
  }))
  const bindings: BindingSpec[] = [
    ...spec.bindings.map((routingKey) => ({ exchange: events, queue: router, routingKey, toExchange: true })),
    { exchange: unpartitioned, queue: names.partitionQueue(queue, 0), routingKey: '' }
  ]
  for (let index = 0; index < spec.partitions.count; index++) {
    const slots: Record<string, unknown> = { 'x-match': 'any' }
    for (let slot = index; slot < PARTITION_SLOTS; slot += spec.partitions.count) slots[slotHeader(slot)] = true
    // A headers exchange ignores the routing key; it names the binding for people (and `bazaar topology verify`).
    bindings.push({ exchange: router, queue: names.partitionQueue(queue, index), routingKey: `partition.${index}`, arguments: slots })
  }
  return {
    exchanges: [
      { name: events, type: 'topic' },
      { name: unpartitioned, type: 'fanout' },
      { name: router, type: 'headers', arguments: { 'alternate-exchange': unpartitioned } }
    ],
    queues,
    bindings
  }
}
