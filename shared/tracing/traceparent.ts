import { parseTraceParent } from '@opentelemetry/core'
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base'
import { TraceFlags, isSpanContextValid, type SpanContext } from '@opentelemetry/api'

/**
 * W3C `traceparent` strings: what the work context carries and what travels in
 * AMQP headers and outbox rows, whether spans are recorded or not. A string
 * rather than a span, so that with tracing off carrying it costs one field.
 */

/** The header (HTTP and AMQP) and the name it has in the work context. */
export const TRACEPARENT = 'traceparent'

const ids = new RandomIdGenerator()

/** The shape Bazaar itself writes: checked with one regular expression, the usual case on every message. */
const ownShape = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/

/** The span context of a well-formed `traceparent` (W3C rules: version, lengths, no all-zero ids), or undefined. */
export function spanContextOf(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined
  // the shape Bazaar writes, the usual case on every traced message and relayed row: its fields are at fixed places
  if (ownShape.test(value)) {
    return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), traceFlags: Number.parseInt(value.slice(53, 55), 16), isRemote: true }
  }
  const parsed = parseTraceParent(value)
  if (!parsed || !isSpanContextValid(parsed)) return undefined
  parsed.isRemote = true
  return parsed
}

/** The span context as a version-00 `traceparent`. */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0')
  return `00-${context.traceId}-${context.spanId}-${flags}`
}

/** The value when it is a well-formed `traceparent` (W3C: lower-case hex), as version 00; otherwise undefined. */
export function validTraceparent(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  if (ownShape.test(value)) return value
  const context = spanContextOf(value)
  return context ? formatTraceparent(context) : undefined
}

/** A `traceparent` starting a new trace, for a request that came without one while no spans are recorded. */
export function newTraceparent(): string {
  return formatTraceparent({ traceId: ids.generateTraceId(), spanId: ids.generateSpanId(), traceFlags: TraceFlags.NONE })
}

/** The trace id of a `traceparent` (characters 3 to 35), without parsing the rest. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35)
}

/** Whether a well-formed `traceparent` says its trace is sampled (the flags' lowest bit). */
export function isSampled(traceparent: string): boolean {
  return (Number.parseInt(traceparent.slice(53, 55), 16) & 1) === 1
}
