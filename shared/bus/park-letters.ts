import type { ConsumeMessage } from 'amqplib'
import { deadLetterOf, type FailureRecord } from './dead-letter.ts'
import { names } from './names.ts'
import { asDelivery, type ParkedMessage } from './park-store.ts'
import type { RawPublish } from './publisher.ts'

/**
 * A dead letter of a partitioned consumer: to its one dead-letter queue,
 * `<queue>.dlq`, while its original queue (`failure.queue`) is the partition
 * queue of its key, so `bazaar dlq replay` sends it back where its key lives.
 */
export function partitionedDeadLetter(consumerQueue: string, message: ConsumeMessage, failure: FailureRecord): RawPublish {
  return { ...deadLetterOf(message, failure), routingKey: names.deadLetterQueue(consumerQueue) }
}

/** The parked head an operator skipped, as a dead letter of kind `skipped`: nothing skipped is lost. */
export function skippedLetter(
  consumerQueue: string,
  head: ParkedMessage,
  parked: { partition: number; attempts: number; lastError: string | null }
): RawPublish {
  return partitionedDeadLetter(consumerQueue, asDelivery(head), {
    kind: 'skipped',
    error: `skipped by operator${parked.lastError ? ` after: ${parked.lastError}` : ''}`,
    attempts: parked.attempts,
    queue: names.partitionQueue(consumerQueue, parked.partition),
    routingKey: head.routingKey,
    exchange: head.exchange
  })
}
