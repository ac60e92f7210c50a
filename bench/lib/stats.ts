import { performance } from 'node:perf_hooks'
import { cpuSample, cpuSince, type CpuSample, type CpuUse } from './cpu.ts'

/** Milliseconds on one monotonic clock shared by publisher and consumer (same process). */
export const now = (): number => performance.now()

/** The value below which `p` percent of the sorted values fall (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function median(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return NaN
  const mid = finite.length >> 1
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

/** What one measurement yields. */
export interface Measure {
  messages: number
  /** first publish (or first transaction) to last message handled */
  msgPerSec: number
  /** first publish to last confirm, when the path has one */
  publishMsgPerSec?: number
  p50Ms: number
  p99Ms: number
  seconds: number
  duplicates: number
  cpu: CpuUse
}

/**
 * Per-message timestamps, indexed by sequence number: when it was sent (or its
 * transaction committed) and when its handler finished. Latencies are computed
 * at the end, so a handler that runs before its sender recorded the send (the
 * commit's promise resolving late) still counts correctly.
 */
export class Tracker {
  private readonly sentAt: Float64Array
  private readonly handledAt: Float64Array
  private handled = 0
  private duplicates = 0
  private startedAt = NaN
  private confirmedAt = NaN
  private cpuAtStart?: CpuSample
  private resolveDone!: () => void
  readonly done: Promise<void>

  constructor(readonly n: number) {
    this.sentAt = new Float64Array(n)
    this.handledAt = new Float64Array(n)
    this.done = new Promise((resolve) => { this.resolveDone = resolve })
    if (n === 0) this.resolveDone()
  }

  /** The clock of the end-to-end figure starts here (first publish, first transaction). */
  start(at = now()): void {
    if (!Number.isNaN(this.startedAt)) return
    this.startedAt = at
    this.cpuAtStart = cpuSample()
  }

  sent(seq: number, at = now()): void {
    this.sentAt[seq] = at
  }

  /** The publisher saw its last confirm. */
  allConfirmed(at = now()): void {
    this.confirmedAt = at
  }

  handledOne(seq: number, at = now()): void {
    if (!(seq >= 0 && seq < this.n)) return
    if (this.handledAt[seq] !== 0) {
      this.duplicates++
      return
    }
    this.handledAt[seq] = at
    if (++this.handled === this.n) this.resolveDone()
  }

  get count(): number {
    return this.handled
  }

  /** Waits until every message was handled, or fails saying how far it got. */
  async wait(timeoutMs: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: only ${this.handled} of ${this.n} handled after ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([this.done, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Call as soon as `done` resolved: the CPU figures run until now. */
  result(): Measure {
    const cpu = cpuSince(this.cpuAtStart ?? cpuSample(), this.n)
    const latencies = new Float64Array(this.n)
    let last = 0
    for (let i = 0; i < this.n; i++) {
      latencies[i] = this.handledAt[i]! - this.sentAt[i]!
      if (this.handledAt[i]! > last) last = this.handledAt[i]!
    }
    latencies.sort()
    const seconds = (last - this.startedAt) / 1000
    const publishSeconds = (this.confirmedAt - this.startedAt) / 1000
    return {
      messages: this.n,
      msgPerSec: this.n / seconds,
      publishMsgPerSec: Number.isNaN(publishSeconds) ? undefined : this.n / publishSeconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      seconds,
      duplicates: this.duplicates,
      cpu
    }
  }
}

/** Medians of each figure over repeated runs. */
export function medianMeasure(runs: Measure[]): Measure {
  const pick = (f: (m: Measure) => number | undefined) => median(runs.map(f).filter((v): v is number => v !== undefined))
  const publish = pick((m) => m.publishMsgPerSec)
  return {
    messages: runs[0]?.messages ?? 0,
    msgPerSec: pick((m) => m.msgPerSec),
    publishMsgPerSec: Number.isNaN(publish) ? undefined : publish,
    p50Ms: pick((m) => m.p50Ms),
    p99Ms: pick((m) => m.p99Ms),
    seconds: pick((m) => m.seconds),
    duplicates: Math.max(0, ...runs.map((m) => m.duplicates)),
    cpu: {
      benchProcessMsPerK: pick((m) => m.cpu.benchProcessMsPerK),
      brokerMsPerK: pick((m) => m.cpu.brokerMsPerK),
      databaseMsPerK: pick((m) => m.cpu.databaseMsPerK),
      machineIdlePct: pick((m) => m.cpu.machineIdlePct)
    }
  }
}
