import type { GetMessage } from 'amqplib'
import { Headers } from '../../shared/bus/headers.ts'
import { republishProperties } from '../../shared/bus/message.ts'
import type { RawPublish } from '../../shared/bus/publisher.ts'

/**
 * A dead letter addressed back to the queue it failed in, through the default
 * exchange: same body and properties, attempts reset so the consumer's retry
 * policy starts over, and the replay counted.
 */
export function replayOf(message: GetMessage, targetQueue: string): RawPublish {
  const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) }
  delete headers['x-delivery-count'] // the dead-letter queue's own bookkeeping, not the message's
  headers[Headers.attempts] = 0
  headers[Headers.replays] = (Number(headers[Headers.replays]) || 0) + 1
  return {
    exchange: '',
    routingKey: targetQueue,
    body: message.content,
    properties: republishProperties(message.properties, headers)
  }
}

/** Spaces calls so that at most `perSecond` start each second (no limit when undefined). */
export function rateLimiter(perSecond: number | undefined): () => Promise<void> {
  if (!perSecond) return async () => {}
  const interval = 1000 / perSecond
  let next = Date.now()
  return async () => {
    const wait = next - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    next = Math.max(next, Date.now()) + interval
  }
}
