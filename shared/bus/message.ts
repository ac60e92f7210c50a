import { randomUUID } from 'node:crypto'
import type { Options } from 'amqplib'
import { currentContext } from '../log/context.ts'
import { Headers } from './headers.ts'
import { addPartitionHeaders } from './partition.ts'
import { TRACEPARENT } from '../tracing/traceparent.ts'

/** What an emitter may say about a message beyond its payload; the rest comes from the work context. */
export interface MessageMeta {
  messageId?: string
  requestId?: string
  correlationId?: string
  causationId?: string
  /** W3C trace context the message carries (default: the work's, see WorkContext.traceparent) */
  traceparent?: string
  headers?: Record<string, unknown>
}

/**
 * The AMQP properties of contract.md, filled from the work in progress (HTTP request or message).
 * Given the payload, an event whose routing key has a partition key also gets its partition headers.
 * `ownTraceparent`: the context of the message's own producer span (tracing on), over meta's and the work's.
 */
export function eventProperties(
  routingKey: string,
  meta: MessageMeta,
  identity: { appId: string; namespace: string },
  payload?: unknown,
  ownTraceparent?: string
): Options.Publish & { messageId: string; headers: Record<string, unknown> } {
  const context = currentContext()
  const messageId = meta.messageId ?? randomUUID()
  const requestId = meta.requestId ?? context.requestId
  const correlationId = meta.correlationId ?? context.correlationId ?? requestId ?? messageId
  const causationId = meta.causationId ?? context.messageId
  // Written in place, in the order the spreads of meta's, the partition's and the namespace header would give.
  const headers: Record<string, unknown> = meta.headers ? { ...meta.headers } : {}
  addPartitionHeaders(headers, routingKey, payload)
  headers[Headers.namespace] = identity.namespace
  if (requestId) headers[Headers.requestId] = requestId
  if (correlationId) headers[Headers.correlationId] = correlationId
  if (causationId) headers[Headers.causationId] = causationId
  // Always, tracing on or off: the request's trace goes with every event it causes (contract.md, Observability).
  const traceparent = ownTraceparent ?? meta.traceparent ?? context.traceparent
  if (traceparent) headers[TRACEPARENT] = traceparent
  return {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    persistent: true,
    messageId,
    timestamp: Math.floor(Date.now() / 1000),
    type: routingKey,
    appId: identity.appId,
    headers
  }
}

/** Properties of a delivered message, as options to publish it again unchanged (retry, dead letter, replay). */
export function republishProperties(
  properties: import('amqplib').MessageProperties,
  headers: Record<string, unknown>
): Options.Publish {
  const copy: Options.Publish = { headers, persistent: true }
  const fields = [
    'contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'timestamp', 'type', 'appId', 'userId', 'priority'
  ] as const
  for (const field of fields) {
    const value = properties[field]
    if (value !== undefined && value !== null) (copy as Record<string, unknown>)[field] = value
  }
  return copy
}
