import { randomFillSync } from 'node:crypto'
import { ROOT_CONTEXT, SamplingDecision, type Attributes, type SpanKind } from '@opentelemetry/api'
import { RandomIdGenerator, type IdGenerator, type Sampler } from '@opentelemetry/sdk-trace-base'

const zeroTraceId = '0'.repeat(32)
const zeroSpanId = '0'.repeat(16)

/**
 * The decision for a span that starts a trace, taken before the SDK is asked
 * for a span. A dropped root then costs an id and one call of the sampler,
 * not the SDK's whole start of a span (both ids, attribute copies, its own
 * span metrics, a non-recording span object): under a 1 % ratio that is 99
 * roots in 100, and on a bus path where every direct publish outside a request
 * starts a trace, it was the largest part of what the sampled path paid.
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
   * A root's trace id and span id, 48 hex digits, from a pool of random bytes filled 256 roots at a time
   * (one call for the pair, where the SDK's generator draws each id apart). An all-zero id, which W3C
   * forbids, is redrawn by the SDK's generator.
   */
  private ids(): string {
    if (this.offset === this.pool.length) {
      randomFillSync(this.pool)
      this.offset = 0
    }
    const hex = this.pool.toString('hex', this.offset, this.offset + 24)
    this.offset += 24
    if (hex.startsWith(zeroTraceId) || hex.endsWith(zeroSpanId)) return this.random.generateTraceId() + this.random.generateSpanId()
    return hex
  }

  private readonly pool = Buffer.alloc(24 * 256)
  private offset = this.pool.length

  /**
   * A new root: `dropped`, the `traceparent` (flags 00) of a trace the sampler does not keep, and no span
   * made; or the `span` that `start` makes at once, the SDK deciding on the trace id asked about.
   */
  startRoot<T>(name: string, kind: SpanKind, attributes: Attributes, start: () => T): { dropped: string } | { span: T } {
    const ids = this.ids()
    const traceId = ids.slice(0, 32)
    const decision = this.sampler.shouldSample(ROOT_CONTEXT, traceId, name, kind, attributes, []).decision
    if (decision === SamplingDecision.NOT_RECORD) return { dropped: `00-${traceId}-${ids.slice(32)}-00` }
    this.staged = traceId
    try {
      return { span: start() }
    } finally {
      this.staged = undefined // used, or the SDK returned before asking (tracing suppressed): not for the next root
    }
  }
}
