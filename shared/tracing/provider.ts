import { context, propagation, trace, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import { WorkContextManager } from './context-manager.ts'
import { RootDecisions } from './roots.ts'
import { samplerFromEnv } from './sampler.ts'

/**
 * The process's OpenTelemetry tracer provider, when tracing is on. One per
 * process, as OpenTelemetry's globals are: a service process is one service,
 * and the apps of a test share it (each span says which service made it).
 * Off (the default) nothing is registered, and the bus and HTTP code test one
 * variable (`activeTracer`) before doing any tracing work.
 */

let provider: BasicTracerProvider | undefined
let tracer: Tracer | undefined
let turnOff: (() => Promise<void>) | undefined
let parentBased = true
let roots: RootDecisions | undefined

/** The tracer while tracing is on; undefined when it is off (no span is made at all). */
export function activeTracer(): Tracer | undefined {
  return tracer
}

/**
 * Whether the sampler follows the parent's decision (the SDK's default, `parentbased_*` in
 * OTEL_TRACES_SAMPLER): then a span under an unsampled parent would not be recorded, and the bus
 * skips making it at all (spans.ts), so an unsampled trace costs what tracing off costs.
 */
export function samplesByParent(): boolean {
  return parentBased
}

/** The decision for a span that starts a trace, taken before asking the SDK for one (roots.ts); undefined when tracing is off. */
export function rootDecisions(): RootDecisions | undefined {
  return roots
}

export interface TracingOptions {
  /** `service.name` of the spans' resource */
  service: string
  /** where finished spans go: a BatchSpanProcessor with the OTLP exporter, or a test's in-memory exporter */
  processor: SpanProcessor
  /** default: from OTEL_TRACES_SAMPLER, as the SDK reads it (parent-based, every root sampled): sampler.ts */
  sampler?: { sampler: Sampler; followsParent: boolean }
}

/**
 * Turns tracing on for this process: registers the provider, a context
 * manager on the work context (context-manager.ts) and the W3C propagator as OpenTelemetry's
 * globals (so code using the API directly, `trace.getActiveSpan()`, sees the
 * bus's spans). Returns the function that turns it off again, after flushing.
 */
export function enableTracing(options: TracingOptions): () => Promise<void> {
  if (provider) throw new Error('tracing is already on in this process')
  // the sampler is built here (from OTEL_TRACES_SAMPLER when not given) and handed to the SDK, so the root decisions use the same one
  const sampling = options.sampler ?? samplerFromEnv()
  const decisions = new RootDecisions(sampling.sampler)
  const own = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.service }),
    spanProcessors: [options.processor],
    sampler: sampling.sampler,
    idGenerator: decisions
  })
  provider = own
  roots = decisions
  parentBased = sampling.followsParent
  trace.setGlobalTracerProvider(own)
  context.setGlobalContextManager(new WorkContextManager())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  tracer = own.getTracer('bazaar')
  const off = async () => {
    if (provider !== own) return
    tracer = undefined
    provider = undefined
    roots = undefined
    turnOff = undefined
    trace.disable()
    context.disable()
    propagation.disable()
    await own.shutdown()
  }
  turnOff = off
  return off
}

/** Turns tracing off (flushing what it holds), whoever turned it on; nothing when it is off. */
export async function disableTracing(): Promise<void> {
  await turnOff?.()
}

/** Whether the environment asks for OTLP export: the standard variables, and not OTEL_SDK_DISABLED. */
export function otlpRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}

/**
 * Tracing from the environment, for a service process: on with the OTLP/HTTP
 * exporter (which reads OTEL_EXPORTER_OTLP_* itself) when an endpoint is set,
 * otherwise off and nothing loaded into action. Idempotent: a second app in
 * the process keeps the first provider.
 */
export function tracingFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): void {
  if (provider || !otlpRequested(env)) return
  enableTracing({ service: env.OTEL_SERVICE_NAME || service, processor: new BatchSpanProcessor(new OTLPTraceExporter()) })
}

/** Sends the spans still buffered (on shutdown); nothing when tracing is off. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => {})
}
