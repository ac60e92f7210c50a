import { context, propagation, trace, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'

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

const notParentBased = new Set(['always_on', 'always_off', 'traceidratio'])

export interface TracingOptions {
  /** `service.name` of the spans' resource */
  service: string
  /** where finished spans go: a BatchSpanProcessor with the OTLP exporter, or a test's in-memory exporter */
  processor: SpanProcessor
  /** default: the SDK's, from OTEL_TRACES_SAMPLER (parent-based, every root sampled) */
  sampler?: { sampler: Sampler; followsParent: boolean }
}

/**
 * Turns tracing on for this process: registers the provider, the
 * AsyncLocalStorage context manager and the W3C propagator as OpenTelemetry's
 * globals (so code using the API directly, `trace.getActiveSpan()`, sees the
 * bus's spans). Returns the function that turns it off again, after flushing.
 */
export function enableTracing(options: TracingOptions): () => Promise<void> {
  if (provider) throw new Error('tracing is already on in this process')
  const own = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.service }),
    spanProcessors: [options.processor],
    ...(options.sampler ? { sampler: options.sampler.sampler } : {})
  })
  provider = own
  // the SDK builds its sampler from the same variable (sdk-trace-base's buildSamplerFromEnv)
  parentBased = options.sampler ? options.sampler.followsParent : !notParentBased.has(process.env.OTEL_TRACES_SAMPLER ?? '')
  trace.setGlobalTracerProvider(own)
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  tracer = own.getTracer('bazaar')
  const off = async () => {
    if (provider !== own) return
    tracer = undefined
    provider = undefined
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
