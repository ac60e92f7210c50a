import type { ConsumeMessage } from 'amqplib'
import { Headers, type DeadLetterKind } from './headers.ts'
import { republishProperties } from './message.ts'
import type { RawPublish } from './publisher.ts'
import { names } from './names.ts'

export interface FailureRecord {
  kind: DeadLetterKind
  error: string
  attempts: number
  /** the queue the message was consumed from */
  queue: string
  /** routing key and exchange it was first published with */
  routingKey: string
  exchange: string
}

/**
 * The same message, body and properties unchanged, addressed to the queue's
 * dead-letter queue, with why, from where and after how many attempts.
 */
export function deadLetterOf(message: ConsumeMessage, failure: FailureRecord, now = new Date()): RawPublish {
  const headers = { ...(message.properties.headers ?? {}) }
  const at = now.toISOString()
  headers[Headers.error] = truncate(failure.error, 2_000)
  headers[Headers.errorKind] = failure.kind
  headers[Headers.attempts] = failure.attempts
  headers[Headers.originalQueue] = failure.queue
  headers[Headers.originalRoutingKey] = failure.routingKey
  headers[Headers.originalExchange] = failure.exchange
  headers[Headers.firstFailureAt] ??= at
  headers[Headers.lastFailureAt] = at
  headers[Headers.deadLetteredAt] = at
  return {
    exchange: '',
    routingKey: names.deadLetterQueue(failure.queue),
    body: message.content,
    properties: republishProperties(message.properties, headers)
  }
}

/** The same message parked in a delay queue, to come back to `queue` after its TTL. */
export function retryOf(
  message: ConsumeMessage,
  target: { retryQueue: string; attempts: number; error: string; routingKey: string; exchange: string },
  now = new Date()
): RawPublish {
  const headers = { ...(message.properties.headers ?? {}) }
  const at = now.toISOString()
  headers[Headers.attempts] = target.attempts
  headers[Headers.error] = truncate(target.error, 2_000)
  headers[Headers.originalRoutingKey] = target.routingKey
  headers[Headers.originalExchange] = target.exchange
  headers[Headers.firstFailureAt] ??= at
  headers[Headers.lastFailureAt] = at
  return {
    exchange: '',
    routingKey: target.retryQueue,
    body: message.content,
    properties: republishProperties(message.properties, headers)
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text
}
