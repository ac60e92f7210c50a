import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Link, type Span, type SpanContext, type SpanOptions, type Tracer } from '@opentelemetry/api'
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
import { activeTracer, rootDecisions, samplesByParent } from './provider.ts'
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

/**
 * A span under `parent`; for a root (no parent), the sampler's decision first (roots.ts): a dropped
 * root is only its `traceparent`, no span asked of the SDK.
 */
function startSpan(tracer: Tracer, name: string, options: SpanOptions, parent: SpanContext | undefined): Span | string {
  if (parent) return tracer.startSpan(name, options, trace.setSpanContext(ROOT_CONTEXT, parent))
  const roots = rootDecisions()
  if (!roots) return tracer.startSpan(name, options, ROOT_CONTEXT)
  const root = roots.startRoot(name, options.kind ?? SpanKind.INTERNAL, options.attributes ?? {}, () => tracer.startSpan(name, options, ROOT_CONTEXT))
  return 'dropped' in root ? root.dropped : root.span
}

function traced(span: Span | string): TracedWork {
  if (typeof span === 'string') return { traceparent: span }
  return { span, traceparent: formatTraceparent(span.spanContext()), context: trace.setSpan(ROOT_CONTEXT, span) }
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
 * The attributes a messaging span starts with, and its name, made once for each operation, destination,
 * routing key and service rather than for every message: the SDK copies them into the span it records
 * (and, for a trace it does not record, drops them), so the same objects serve every message. Found by
 * nested maps, so a message builds no key. Queues, exchanges and routing keys come from the topology;
 * past `startsCached` routing keys for one destination (keys made up by a producer inside the broker's
 * trust boundary), they are made afresh each time.
 */
interface SpanStart {
  name: string
  attributes: Attributes
}
const starts = new Map<string, Map<string, Map<string, Map<string, SpanStart>>>>()
const startsCached = 1_024

function child<V>(map: Map<string, V>, key: string, make: () => V): V {
  let found = map.get(key)
  if (found === undefined) {
    found = make()
    map.set(key, found)
  }
  return found
}

function spanStart(operation: string, destination: string, routingKey: string, service: string): SpanStart {
  const byKey = child(child(starts, operation, () => new Map()), destination, () => new Map())
  const byService = byKey.get(routingKey)
  const known = byService?.get(service)
  if (known) return known
  const attributes = messaging(operation, destination, routingKey)
  attributes[ATTR_BAZAAR_SERVICE] = service
  const start = { name: `${operation} ${destination}`, attributes }
  if (byService) byService.set(service, start)
  else if (byKey.size < startsCached) byKey.set(routingKey, new Map([[service, start]]))
  return start
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
  return traced(startSpan(tracer, name, { kind: SpanKind.SERVER, attributes }, given))
}

/** A message's own producer span, or for a dropped root only the `traceparent` it carries. */
export interface ProducerTrace {
  traceparent: string
  /** recording, or not (a trace the sampler dropped under a sampler not following the parent) */
  span?: Span
}

/**
 * A PRODUCER span for a message made in the work in progress (`create`: the
 * outbox write; `send`: a direct publish), child of the work's span. Undefined
 * when tracing is off, or when the work's trace is not sampled: the message
 * then carries the work's own `traceparent`.
 */
export function startProducerSpan(operation: 'create' | 'send', destination: string, routingKey: string, service: string): ProducerTrace | undefined {
  const tracer = activeTracer()
  if (!tracer) return undefined
  const work = currentContext().traceparent
  if (unsampledParent(work)) return undefined
  const start = spanStart(operation, destination, routingKey, service)
  const span = startSpan(tracer, start.name, { kind: SpanKind.PRODUCER, attributes: start.attributes }, spanContextOf(work))
  return typeof span === 'string' ? { traceparent: span } : { span, traceparent: formatTraceparent(span.spanContext()) }
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
  const start = spanStart('process', queue, message.routingKey, service)
  const span = startSpan(tracer, start.name, { kind: SpanKind.CONSUMER, attributes: start.attributes }, spanContextOf(header))
  // what differs for each message, only on a span that records it
  if (typeof span !== 'string' && span.isRecording()) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, message.id).setAttribute(ATTR_BAZAAR_ATTEMPT, message.attempt)
  return traced(span)
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
