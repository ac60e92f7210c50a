import { expect } from 'chai'
import { ROOT_CONTEXT, SamplingDecision, context, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import { currentContext, runWithContext } from '../../shared/log/context.ts'
import { enableTracing } from '../../shared/tracing/provider.ts'
import { samplerFromEnv } from '../../shared/tracing/sampler.ts'
import { endSpan, startProducerSpan } from '../../shared/tracing/spans.ts'
import { isSampled, traceIdOf } from '../../shared/tracing/traceparent.ts'

/**
 * The root decision Bazaar takes before asking the SDK for a span (shared/tracing/roots.ts), the sampler it
 * builds from OTEL_TRACES_SAMPLER as the SDK would, and the context manager on the work context.
 */
describe('tracing: root decisions, the sampler from the environment, the context manager', () => {
  const exporter = new InMemorySpanExporter()
  const ratio = new TraceIdRatioBasedSampler(0.5)
  let turnOff: (() => Promise<void>) | undefined

  before(() => {
    turnOff = enableTracing({
      service: 'sampling-test',
      processor: new SimpleSpanProcessor(exporter),
      sampler: { sampler: new ParentBasedSampler({ root: ratio }), followsParent: true }
    })
  })
  after(async () => {
    await turnOff?.()
  })

  it("a root is recorded exactly when the sampler keeps its trace id, and a dropped one still carries a trace (flags 00)", () => {
    exporter.reset()
    const kept: string[] = []
    const dropped: string[] = []
    for (let i = 0; i < 400; i++) {
      const produced = startProducerSpan('send', 'sampling.events', 'product.updated', 'sampling-test')
      expect(produced, 'tracing is on and there is no unsampled parent').to.not.equal(undefined)
      const traceId = traceIdOf(produced!.traceparent)
      const decision = ratio.shouldSample(ROOT_CONTEXT, traceId).decision
      if (produced!.span?.isRecording()) {
        expect(isSampled(produced!.traceparent)).to.equal(true)
        expect(decision).to.equal(SamplingDecision.RECORD_AND_SAMPLED)
        kept.push(traceId)
        endSpan(produced!.span)
      } else {
        expect(produced!.span, 'a dropped root makes no span').to.equal(undefined)
        expect(isSampled(produced!.traceparent)).to.equal(false)
        expect(decision).to.equal(SamplingDecision.NOT_RECORD)
        dropped.push(traceId)
      }
    }
    // half of 400 at a ratio of 0.5; had the SDK drawn a new trace id for a kept root, a quarter
    expect(kept.length).to.be.within(140, 260)
    expect(exporter.getFinishedSpans().map((s) => s.spanContext().traceId)).to.deep.equal(kept)
    expect(new Set([...kept, ...dropped]).size, 'every root its own trace').to.equal(400)
  })

  it("OpenTelemetry's active context lives in the work context: set by context.with, kept across an await, the work's ids still there", async () => {
    const span = trace.getTracer('sampling-test').startSpan('outer')
    const seen = await runWithContext({ requestId: 'r-1' }, () =>
      context.with(trace.setSpan(context.active(), span), async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return { active: trace.getActiveSpan(), requestId: currentContext().requestId }
      })
    )
    span.end()
    expect(seen.active).to.equal(span)
    expect(seen.requestId).to.equal('r-1')
    expect(trace.getActiveSpan(), 'outside the with').to.equal(undefined)
  })

  it('builds the sampler OTEL_TRACES_SAMPLER names, with the SDK default and fallbacks', () => {
    const saved = { name: process.env.OTEL_TRACES_SAMPLER, arg: process.env.OTEL_TRACES_SAMPLER_ARG }
    const build = (name?: string, arg?: string) => {
      if (name === undefined) delete process.env.OTEL_TRACES_SAMPLER
      else process.env.OTEL_TRACES_SAMPLER = name
      if (arg === undefined) delete process.env.OTEL_TRACES_SAMPLER_ARG
      else process.env.OTEL_TRACES_SAMPLER_ARG = arg
      const built = samplerFromEnv()
      return { followsParent: built.followsParent, sampler: built.sampler.toString() }
    }
    try {
      expect(build()).to.deep.equal({ followsParent: true, sampler: 'ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}' })
      expect(build('parentbased_traceidratio', '0.01').sampler).to.match(/^ParentBased\{root=TraceIdRatioBased\{0\.01\}/)
      expect(build('parentbased_traceidratio', '7').sampler, 'out of range: 1').to.match(/^ParentBased\{root=TraceIdRatioBased\{1\}/)
      expect(build('traceidratio', '0.5')).to.deep.equal({ followsParent: false, sampler: 'TraceIdRatioBased{0.5}' })
      expect(build('always_off')).to.deep.equal({ followsParent: false, sampler: 'AlwaysOffSampler' })
      expect(build('parentbased_always_off').sampler).to.match(/^ParentBased\{root=AlwaysOffSampler/)
      expect(build('no_such_sampler').sampler).to.match(/^ParentBased\{root=AlwaysOnSampler/)
    } finally {
      build(saved.name, saved.arg)
    }
  })
})
