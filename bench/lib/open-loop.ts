import { cpuSample, cpuSince, type CpuUse } from './cpu.ts'
import { ticksOf, TICK_MS } from './cpu.ts'
import { now, percentile } from './stats.ts'

/** What an open-loop run yields: latencies from each request's intended send time. */
export interface OpenLoopResult {
  requests: number
  /** the schedule's rate */
  offeredPerSec: number
  /** requests answered per second, first intended send to last answer */
  completedPerSec: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  errors: number
  lastError?: string
  cpu: CpuUse & { serviceMsPerK?: number }
}

export interface OpenLoopOptions {
  total: number
  ratePerSec: number
  /** a server in a process of its own whose CPU is counted too */
  servicePid?: number
}

/**
 * Sends request `seq` at start + seq/rate whatever happened to the ones before
 * (open loop), and times each from that intended send, not from when it left:
 * a server that falls behind shows as latency rather than as a lower rate the
 * generator silently adopted (coordinated omission). A late tick sends
 * everything that came due, each still timed from its own slot.
 */
export async function openLoop(options: OpenLoopOptions, call: (seq: number) => Promise<unknown>): Promise<OpenLoopResult> {
  const { total, ratePerSec } = options
  const latencies = new Float64Array(total)
  let errors = 0
  let lastError: string | undefined
  const inFlight: Array<Promise<void>> = []
  const cpuStart = cpuSample()
  const serviceStart = options.servicePid === undefined ? undefined : ticksOf(options.servicePid)
  const start = now()
  const intended = (seq: number) => start + (seq * 1000) / ratePerSec
  let seq = 0
  while (seq < total) {
    const due = Math.min(total, Math.floor(((now() - start) * ratePerSec) / 1000) + 1)
    for (; seq < due; seq++) {
      const at = intended(seq)
      const mine = seq
      inFlight.push(
        call(mine).then(
          () => void (latencies[mine] = now() - at),
          (err: Error) => {
            errors++
            lastError = err.cause instanceof Error ? err.cause.message : err.message
            latencies[mine] = now() - at
          }
        )
      )
    }
    if (seq < total) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(inFlight)
  const elapsed = now() - start
  const cpu: OpenLoopResult['cpu'] = cpuSince(cpuStart, total)
  const serviceEnd = options.servicePid === undefined ? undefined : ticksOf(options.servicePid)
  if (serviceStart !== undefined && serviceEnd !== undefined) cpu.serviceMsPerK = Math.round(((serviceEnd - serviceStart) * TICK_MS * 1000 * 10) / total) / 10
  const sorted = latencies.sort()
  return {
    requests: total,
    offeredPerSec: ratePerSec,
    completedPerSec: round(total / (elapsed / 1000)),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[total - 1] ?? NaN),
    errors,
    ...(lastError ? { lastError } : {}),
    cpu
  }
}

const round = (n: number) => Math.round(n * 100) / 100
