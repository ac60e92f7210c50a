import { ROOT_CONTEXT, SamplingDecision, type Attributes, type SpanKind } from '@opentelemetry/api'
import { RandomIdGenerator, type IdGenerator, type Sampler } from '@opentelemetry/sdk-trace-base'

/**
 * The decision for a span that starts a trace, taken before the SDK is asked
 * for a span. A dropped root then costs an id and one call of the sampler,
 * not the SDK's whole start of a span (both ids, attribute copies, its own
 * span metrics, a non-recording span object): under a 1 % ratio that is 99
 * roots in 100, and on a bus path where every direct publish outside a request
 * starts a trace, it was most of what sampling left to pay.
 *
 * It is also the provider's id generator: a root the sampler keeps is started
 * right after, by the SDK, with the trace id the sampler was asked about
 * (`staged`), so the SDK's own decision is taken on the same id. A sampler
 * deciding from the trace id (ratio) or from nothing (always on/off) decides
 * the same twice; one that decides otherwise is asked twice, and the span it
 * makes is whatever it decides the second time.
 */
export class RootDecisions implements IdGenerator {
  private readonly random = new RandomIdGenerator()
  private staged: string | undefined

  constructor(private readonly sampler: Sampler) {}

  generateTraceId(): string {
    const staged = this.staged
    this.staged = undefined
    return staged ?? this.random.generateTraceId()
  }

  generateSpanId(): string {
    return this.random.generateSpanId()
  }

  /**
   * A new root: `dropped`, the `traceparent` (flags 00) of a trace the sampler does not keep, and no span
   * made; or the `span` that `start` makes at once, the SDK deciding on the trace id asked about.
   */
  startRoot<T>(name: string, kind: SpanKind, attributes: Attributes, start: () => T): { dropped: string } | { span: T } {
    const traceId = this.random.generateTraceId()
    const decision = this.sampler.shouldSample(ROOT_CONTEXT, traceId, name, kind, attributes, []).decision
    if (decision === SamplingDecision.NOT_RECORD) return { dropped: `00-${traceId}-${this.random.generateSpanId()}-00` }
    this.staged = traceId
    try {
      return { span: start() }
    } finally {
      this.staged = undefined // used, or the SDK returned before asking (tracing suppressed): not for the next root
    }
  }
}
