import { diag } from '@opentelemetry/api'
import { getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core'
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base'

/**
 * The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG ask for, built as
 * the SDK builds it when given none (sdk-trace-base's config.js, which is not
 * exported): the same names, the same default (parent-based, every root) and
 * the same fallbacks. Bazaar builds it itself so that it holds the very sampler
 * the provider uses, and can take a root's decision before asking the SDK for
 * a span (roots.ts). `followsParent`: whether a child follows its parent's decision.
 */
export function samplerFromEnv(): { sampler: Sampler; followsParent: boolean } {
  const name = getStringFromEnv('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on'
  switch (name) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), followsParent: false }
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), followsParent: false }
    case 'traceidratio':
      return { sampler: new TraceIdRatioBasedSampler(ratioFromEnv()), followsParent: false }
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), followsParent: true }
    case 'parentbased_traceidratio':
      return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFromEnv()) }), followsParent: true }
    case 'parentbased_always_on':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), followsParent: true }
    default:
      diag.error(`OTEL_TRACES_SAMPLER value "${name}" invalid, defaulting to "parentbased_always_on".`)
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), followsParent: true }
  }
}

function ratioFromEnv(): number {
  const ratio = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG')
  if (ratio === undefined) return 1
  if (ratio < 0 || ratio > 1) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${ratio} was given, but it is out of range ([0..1]), defaulting to 1.`)
    return 1
  }
  return ratio
}
