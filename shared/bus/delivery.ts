import { createHash } from 'node:crypto'
import type { ConsumeMessage } from 'amqplib'
import type { RoutingKey } from '../contracts/index.ts'
import type { Envelope } from './envelope.ts'
import { Headers } from './headers.ts'

/** Where a delivered message really comes from, even after a trip through a delay queue or a replay. */
export interface DeliveryOrigin {
  routingKey: string
  exchange: string
  /** handler failures recorded on the message before this delivery */
  previousAttempts: number
}

export function originOf(message: ConsumeMessage): DeliveryOrigin {
  const headers = headersOf(message)
  // A retried or replayed message arrives through the default exchange, addressed to the queue;
  // its first routing key travels in a header (or, failing that, in `type`).
  const direct = message.fields.exchange === ''
  const routingKey = headers[Headers.originalRoutingKey] ?? (direct ? message.properties.type ?? message.fields.routingKey : message.fields.routingKey)
  return {
    routingKey: String(routingKey),
    exchange: String(headers[Headers.originalExchange] ?? message.fields.exchange),
    previousAttempts: Number(headers[Headers.attempts] ?? 0) || 0
  }
}

/** `text`: the body as decoded, which the contract check scans for unstorable text (checkContract's `json`). */
export type Parsed = { ok: true; value: unknown; text: string } | { ok: false; reason: string }

/** Events are small documents; a body this large is a mistake or an attack, never an event. */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * The body as JSON, refusing other content types: a wrong body can never succeed, however often retried.
 * Takes only what a queue's delivery and a stream reader's message both have.
 */
export function parseBody(message: Pick<ConsumeMessage, 'content' | 'properties'>): Parsed {
  if (message.content.length > MAX_BODY_BYTES) {
    return { ok: false, reason: `body of ${message.content.length} bytes exceeds the ${MAX_BODY_BYTES}-byte limit for events` }
  }
  const contentType = message.properties.contentType as string | undefined
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    return { ok: false, reason: `content type ${contentType} is not application/json` }
  }
  const text = message.content.toString('utf8')
  try {
    return { ok: true, value: JSON.parse(text), text }
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` }
  }
}

export function toEnvelope(message: ConsumeMessage, routingKey: RoutingKey, payload: unknown, attempt: number): Envelope {
  const headers = headersOf(message)
  const timestamp = message.properties.timestamp as number | undefined
  return {
    id: messageIdOf(message, routingKey),
    routingKey,
    payload: payload as Envelope['payload'],
    requestId: str(headers[Headers.requestId]),
    correlationId: str(headers[Headers.correlationId]),
    causationId: str(headers[Headers.causationId]),
    appId: str(message.properties.appId),
    publishedAt: timestamp ? new Date(timestamp * 1000) : undefined,
    attempt,
    redelivered: message.fields.redelivered,
    headers,
    raw: message
  }
}

/** The message's id; one from outside without an id gets one from its content, stable across redeliveries. */
export function messageIdOf(message: ConsumeMessage, routingKey: string): string {
  const id = message.properties.messageId as unknown
  if (typeof id === 'string' && id) return id
  return `sha256:${createHash('sha256').update(routingKey).update(message.content).digest('hex')}`
}

/** A non-empty string, or undefined. Made once, not per message (a named closure per message costs under tsx). */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined
}

function headersOf(message: ConsumeMessage): Record<string, unknown> {
  return (message.properties.headers ?? {}) as Record<string, unknown>
}

/** What one run of a handler came to. */
export type HandlerOutcome = { ok: true } | { ok: false; error: Error }
