import { names } from './names.ts'
import { partitionTopology, type PartitionOptions } from './partition-topology.ts'
import { defaultRetryPolicy, delayQueueDelays, type RetryPolicy } from './retry.ts'
import { quorum, type Topology } from './topology.ts'

/**
 * A consuming queue as data, without its handlers: what `bazaar topology`
 * reads from each service's `topology.ts`.
 */
export interface ConsumerDeclaration {
  /** the consuming service: first part of the queue name */
  service: string
  /** what the queue is for, e.g. `user-events` */
  purpose: string
  /** binding patterns on the events exchange, e.g. `user.#` or `user.updated` */
  bindings: string[]
  /** unacknowledged messages in flight at once; forced to 1 by a blocking retry policy */
  prefetch?: number
  retry?: RetryPolicy
  /**
   * Per-key order (shared/contracts/partition-keys.ts): `count` partition
   * queues instead of one work queue; a key whose handler keeps failing is
   * parked in PostgreSQL with its later events while other keys flow. `retry`
   * does not apply: failures are retried in place, then parked.
   */
  partitions?: PartitionOptions
}

/**
 * A broker-side guard: a message redelivered this often (a handler that crashes
 * the process, say) is dead-lettered by the broker itself. Set explicitly on
 * every quorum queue: RabbitMQ 4 otherwise applies its own default of 20.
 */
export const BROKER_DELIVERY_LIMIT = 50

/**
 * A dead-letter queue keeps what it holds until an operator acts: its limit is
 * high so that peeking at it (get, then requeue) never drops a message, which
 * RabbitMQ 4's default limit would after 20 peeks (the DLQ has no DLX).
 */
export const DEAD_LETTER_DELIVERY_LIMIT = 1_000_000

/** The topology one consumer needs: its queue, delay queues, dead-letter queue and bindings. */
export function consumerTopology(namespace: string, spec: ConsumerDeclaration): Topology {
  const queue = names.queue(namespace, spec.service, spec.purpose)
  const dlq = names.deadLetterQueue(queue)
  const exchange = names.eventsExchange(namespace)
  const policy = spec.retry ?? defaultRetryPolicy
  const deadLetterQueue = { name: dlq, service: spec.service, purpose: 'dead-letter' as const, arguments: quorum({ 'x-delivery-limit': DEAD_LETTER_DELIVERY_LIMIT }) }
  if (spec.partitions) {
    const work = { 'x-delivery-limit': BROKER_DELIVERY_LIMIT, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq }
    const partitioned = partitionTopology(namespace, { ...spec, partitions: spec.partitions }, queue, work)
    return { ...partitioned, queues: [...partitioned.queues, deadLetterQueue] }
  }
  return {
    exchanges: [{ name: exchange, type: 'topic' }],
    queues: [
      {
        name: queue,
        service: spec.service,
        purpose: 'work',
        arguments: quorum({
          'x-delivery-limit': BROKER_DELIVERY_LIMIT,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': dlq,
          // Order only holds with one consumer at a time, however many replicas run.
          ...(policy.kind === 'blocking' ? { 'x-single-active-consumer': true } : {})
        })
      },
      ...delayQueueDelays(policy).map((delay) => ({
        name: names.retryQueue(queue, delay),
        service: spec.service,
        purpose: 'retry' as const,
        // Expired messages go back to the work queue; at-least-once so none is lost on the way.
        arguments: quorum({
          'x-delivery-limit': BROKER_DELIVERY_LIMIT,
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish'
        })
      })),
      deadLetterQueue
    ],
    bindings: spec.bindings.map((routingKey) => ({ exchange, queue, routingKey }))
  }
}
