/**
 * Header names. The contract's headers travel with every event; the `x-bazaar-*`
 * ones are the bus's own bookkeeping for retries and dead letters.
 */
export const Headers = {
  requestId: 'x-request-id',
  correlationId: 'x-correlation-id',
  causationId: 'x-causation-id',
  namespace: 'x-namespace',
  /** the hash slot (0..255) of the event's partition key, on events whose routing key has one */
  partition: 'x-bazaar-partition',
  /** `bazaar-slot-<slot>: true`, the same slot as a header a headers exchange can match (see partition.ts) */
  partitionMatchPrefix: 'bazaar-slot-',

  /** how many times a handler has failed on this message so far */
  attempts: 'x-bazaar-attempts',
  firstFailureAt: 'x-bazaar-first-failure-at',
  lastFailureAt: 'x-bazaar-last-failure-at',
  /** the routing key and exchange the message was first published with */
  originalRoutingKey: 'x-bazaar-original-routing-key',
  originalExchange: 'x-bazaar-original-exchange',
  /** the queue the message failed in: where a replay sends it back */
  originalQueue: 'x-bazaar-original-queue',
  error: 'x-bazaar-error',
  /** malformed | contract | handler | skipped */
  errorKind: 'x-bazaar-error-kind',
  deadLetteredAt: 'x-bazaar-dead-lettered-at',
  replays: 'x-bazaar-replays'
} as const

export type DeadLetterKind = 'malformed' | 'contract' | 'handler' | 'skipped'
