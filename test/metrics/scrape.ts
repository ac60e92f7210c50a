import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client'

export type Families = ReturnType<typeof parsePrometheusTextFormat>

/** GET /metrics of a running app, parsed by a real parser of the text format (it throws on malformed text). */
export async function scrape(origin: string): Promise<Families> {
  const response = await fetch(new URL('/metrics', origin))
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`)
  const type = response.headers.get('content-type') ?? ''
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`GET /metrics has content type ${type}`)
  return parsePrometheusTextFormat(await response.text())
}

/** The samples of one family whose labels include `labels`. */
function samples(families: Families, name: string, labels: Record<string, string>) {
  const family = families.find((f) => f.name === name)
  if (!family) return []
  return family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
}

/** A counter's or gauge's value (summed over the matching series); 0 when there is none yet. */
export function valueOf(families: Families, name: string, labels: Record<string, string> = {}): number {
  return samples(families, name, labels).reduce((sum, m) => sum + Number(m.value ?? 0), 0)
}

/**
 * A histogram's observation count (summed over the matching series), from the app's registry: the
 * parser folds a histogram's labelled series into one and drops their `_count` (its flattening only
 * keeps unlabelled ones), so only the text's validity is its to check for histograms.
 */
export async function histogramCount(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) return 0
  const { values } = (await metric.get()) as MetricObjectWithValues<MetricValueWithName<string>>
  return values
    .filter((v) => v.metricName === `${name}_count` && Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0)
}
