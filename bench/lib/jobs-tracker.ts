import { percentile } from './stats.ts'
import { wallNow, type BenchJob } from './jobs-system.ts'

/**
 * When each job of one measurement started, on the wall clock (the clock due times are given in), and
 * how late that was. A job started twice counts as a duplicate; a job of another run is ignored.
 */
export class JobTracker {
  private readonly startedAt: Float64Array
  private readonly dueAt: Float64Array
  private started = 0
  private firstAt = Infinity
  private lastAt = 0
  duplicates = 0
  private resolveDone!: () => void
  readonly done: Promise<void>

  constructor(readonly tag: string, readonly n: number) {
    this.startedAt = new Float64Array(n)
    this.dueAt = new Float64Array(n)
    this.done = new Promise((resolve) => { this.resolveDone = resolve })
  }

  /** When the job is due (wall clock); immediate jobs are due when they are enqueued. */
  due(seq: number, at: number): void {
    this.dueAt[seq] = at
  }

  readonly onStarted = (job: BenchJob): void => {
    if (job.tag !== this.tag || !(job.seq >= 0 && job.seq < this.n)) return
    const at = wallNow()
    if (this.startedAt[job.seq] !== 0) {
      this.duplicates++
      return
    }
    this.startedAt[job.seq] = at
    if (at < this.firstAt) this.firstAt = at
    if (at > this.lastAt) this.lastAt = at
    if (++this.started === this.n) this.resolveDone()
  }

  get count(): number {
    return this.started
  }

  get first(): number {
    return this.firstAt
  }

  get last(): number {
    return this.lastAt
  }

  /** Jobs started at or after `at` (wall clock): the ones a CPU window that opened then covers. */
  startedSince(at: number): number {
    let count = 0
    for (let i = 0; i < this.n; i++) if (this.startedAt[i]! >= at) count++
    return count
  }

  /** Waits until every job started, or fails saying how far it got. */
  async wait(timeoutMs: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: only ${this.started} of ${this.n} jobs started after ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([this.done, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** min (the first wake-up), p50, p99 and max of start minus due, in ms, over the jobs that started. */
  lateness(): { minMs: number; p50Ms: number; p99Ms: number; maxMs: number } {
    const late: number[] = []
    for (let i = 0; i < this.n; i++) if (this.startedAt[i]! > 0) late.push(this.startedAt[i]! - this.dueAt[i]!)
    late.sort((a, b) => a - b)
    return { minMs: late[0] ?? NaN, p50Ms: percentile(late, 50), p99Ms: percentile(late, 99), maxMs: late.at(-1) ?? NaN }
  }
}
