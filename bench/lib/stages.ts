import { now, percentile } from './stats.ts'

/**
 * Where a message's time goes on a path with several stages: a timestamp per
 * message at each mark (transaction begun, committed, delivered, effect
 * committed), and the p50/p99 of the time between one mark and the next.
 */
export class Stages<Mark extends string> {
  private readonly at: Record<string, Float64Array> = {}

  constructor(readonly marks: readonly Mark[], readonly n: number) {
    for (const mark of marks) this.at[mark] = new Float64Array(n)
  }

  mark(mark: Mark, seq: number, at = now()): void {
    if (seq >= 0 && seq < this.n) this.at[mark]![seq] = at
  }

  /** `{ 'begun -> committed': { p50Ms, p99Ms }, ... }` over the messages that reached both marks. */
  summary(): Record<string, { p50Ms: number; p99Ms: number }> {
    const out: Record<string, { p50Ms: number; p99Ms: number }> = {}
    for (let i = 1; i < this.marks.length; i++) {
      const from = this.at[this.marks[i - 1]!]!
      const to = this.at[this.marks[i]!]!
      const spans: number[] = []
      for (let seq = 0; seq < this.n; seq++) if (from[seq]! > 0 && to[seq]! > 0) spans.push(to[seq]! - from[seq]!)
      spans.sort((a, b) => a - b)
      out[`${this.marks[i - 1]} -> ${this.marks[i]}`] = {
        p50Ms: Math.round(percentile(spans, 50) * 10) / 10,
        p99Ms: Math.round(percentile(spans, 99) * 10) / 10
      }
    }
    return out
  }
}
