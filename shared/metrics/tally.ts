import { Counter, type CounterConfiguration } from 'prom-client'

/** One series of a tallied counter: the hot path adds to `pending`, a plain number. */
export interface Tally {
  pending: number
}

/**
 * A prom-client counter whose series are counted in plain numbers and handed to prom-client when
 * Prometheus scrapes (its `collect`). Even a child from `labels()` hashes and validates its labels
 * on every `inc()` (1.5 µs here), and a message moves two or three counters: this makes that an
 * addition. Returns the maker of series; make each once and keep it.
 */
export function talliedCounter<L extends string>(config: Omit<CounterConfiguration<L>, 'collect'>): (...labels: string[]) => Tally {
  const series: Array<Tally & { child: ReturnType<Counter<L>['labels']> }> = []
  const counter: Counter<L> = new Counter<L>({
    ...config,
    collect() {
      for (const s of series) {
        if (s.pending === 0) continue
        s.child.inc(s.pending)
        s.pending = 0
      }
    }
  })
  return (...labels) => {
    const s = { pending: 0, child: counter.labels(...labels) }
    series.push(s)
    return s
  }
}
