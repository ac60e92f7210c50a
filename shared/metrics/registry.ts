import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * One registry per app, never prom-client's global one: tests run several apps in one process, and
 * each must export only its own series (no name clashes, no counts of another app's messages).
 * Every series carries `service`.
 */
export function createRegistry(service: string): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  return registry
}

/**
 * The Node process families (CPU, memory, heap, event-loop lag, GC) under their standard names, for
 * the dashboards that expect them. They describe the process, not an app, and prom-client's
 * collectors (an event-loop delay monitor, a GC observer) live as long as the process: added by
 * runService() to the one app a service process runs, not to every app a test makes.
 */
export function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry })
}

/** Handler and job timings: 1 ms to 30 s, the span between a trivial handler and a stuck one. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
