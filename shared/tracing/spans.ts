import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Link, type Span, type SpanContext } from '@opentelemetry/api'
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM_VALUE_RABBITMQ
} from '@opentelemetry/semantic-conventions/incubating'
import { currentContext } from '../log/context.ts'
import { activeTracer, samplesByParent } from './provider.ts'
import { formatTraceparent, isSampled, newTraceparent, spanContextOf, validTraceparent } from './traceparent.ts'

/**
 * The spans Bazaar makes (HTTP server, outbox write, relay send, consumer
 * process), each a no-op returning at most a `traceparent` when tracing is
 * off, or when the trace is not sampled and the sampler follows the parent
 * (the default). Messaging spans follow OpenTelemetry's messaging conventions; the
 * `bazaar.service` attribute names the service, since the apps of one test
 * process share a provider.
 */

/** Work that runs under a span: the `traceparent` it carries and, when tracing is on, its span and OpenTelemetry context. */
export interface TracedWork {
  traceparent?: string
  span?: Span
  /** the OpenTelemetry context to run the work in, so the API's `getActiveSpan()` sees the span */
  context?: Context
}

export const ATTR_BAZAAR_SERVICE = 'bazaar.service'
export const ATTR_BAZAAR_ATTEMPT = 'bazaar.attempt'

/** A valid parent whose trace is not sampled, under a sampler that follows the parent: no span would be recorded. */
function unsampledParent(traceparent: string | undefined): traceparent is string {
  return traceparent !== undefined && !isSampled(traceparent) && samplesByParent()
}

function unsampled(parent: SpanContext | undefined): parent is SpanContext {
  return parent !== undefined && (parent.traceFlags & TraceFlags.SAMPLED) === 0 && samplesByParent()
}

function parentContext(parent: SpanContext | undefined): Context {
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT
}

function traced(span: Span, parent: Context): TracedWork {
  return { span, traceparent: formatTraceparent(span.spanContext()), context: trace.setSpan(parent, span) }
}

function messaging(operation: string, destination: string, routingKey?: string): Attributes {
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_RABBITMQ,
    [ATTR_MESSAGING_OPERATION_TYPE]: operation,
    [ATTR_MESSAGING_OPERATION_NAME]: operation,
    [ATTR_MESSAGING_DESTINATION_NAME]: destination
  }
  if (routingKey) attributes[ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY] = routingKey
  return attributes
}

/**
 * The HTTP request's span, child of the client's `traceparent` when it sent
 * one. With tracing off there is no span, but the request still carries a
 * trace: the client's, or a new trace id made here, so every event it causes
 * has one. `record` false: no span even with tracing on (probes and scrapes).
 */
export function startServerSpan(name: string, incoming: unknown, attributes: Attributes, record = true): TracedWork {
  const tracer = activeTracer()
  if (!tracer || !record) return { traceparent: validTraceparent(incoming) ?? newTraceparent() }
  const given = spanContextOf(incoming)
  if (unsampled(given)) return { traceparent: formatTraceparent(given) }
  const parent = parentContext(given)
  return traced(tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent), parent)
}

/**
 * A PRODUCER span for a message made in the work in progress (`create`: the
 * outbox write; `send`: a direct publish), child of the work's span. Undefined
 * when tracing is off: the message then carries the work's own `traceparent`.
 */
export function startProducerSpan(operation: 'create' | 'send', destination: string, routingKey: string, service: string): Span | undefined {
  const tracer = activeTracer()
  if (!tracer) return undefined
  const work = currentContext().traceparent
  if (unsampledParent(work)) return undefined
  const attributes = messaging(operation, destination, routingKey)
  attributes[ATTR_BAZAAR_SERVICE] = service
  return tracer.startSpan(`${operation} ${destination}`, { kind: SpanKind.PRODUCER, attributes }, parentContext(spanContextOf(work)))
}

/**
 * The relay's send of a batch of outbox rows: a PRODUCER span of its own
 * (the relay works for no request), linked to each row's stored context, as
 * the conventions say a batch send is. Undefined when tracing is off.
 */
export function startRelaySpan(destination: string, contexts: ReadonlyArray<string | null>, service: string): Span | undefined {
  const tracer = activeTracer()
  if (!tracer) return undefined
  const links: Link[] = []
  for (const stored of contexts) {
    const context = spanContextOf(stored)
    if (context) links.push({ context })
  }
  const attributes = messaging('send', destination)
  attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = contexts.length
  attributes[ATTR_BAZAAR_SERVICE] = service
  return tracer.startSpan(`send ${destination}`, { kind: SpanKind.PRODUCER, attributes, links }, ROOT_CONTEXT)
}

/**
 * A consumer's processing of one delivery (each attempt its own span), child
 * of the context the message carries: the outbox write's, so of the request
 * that caused it, not of the relay that happened to send it. With tracing
 * off, the message's `traceparent` passes on unchanged to what the handler emits.
 */
export function startProcessSpan(
  message: { headers: Record<string, unknown>; routingKey: string; id: string; attempt: number },
  queue: string,
  service: string
): TracedWork {
  const tracer = activeTracer()
  const header = validTraceparent(message.headers.traceparent)
  // off, or a trace the parent-based sampler will not record: the header passes on as it came, nothing parsed
  if (!tracer || unsampledParent(header)) return { traceparent: header }
  const incoming = spanContextOf(header)
  const attributes = messaging('process', queue, message.routingKey)
  attributes[ATTR_MESSAGING_MESSAGE_ID] = message.id
  attributes[ATTR_BAZAAR_SERVICE] = service
  attributes[ATTR_BAZAAR_ATTEMPT] = message.attempt
  const parent = parentContext(incoming)
  return traced(tracer.startSpan(`process ${queue}`, { kind: SpanKind.CONSUMER, attributes }, parent), parent)
}

/** Ends a span, as failed when given an error. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return
  if (error !== undefined) {
    const err = error instanceof Error ? error : new Error(String(error))
    span.recordException(err)
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
  }
  span.end()
}
