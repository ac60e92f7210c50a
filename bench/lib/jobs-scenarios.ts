import { randomUUID } from 'node:crypto'
import { JobsCpu, type JobsCpuUse } from './jobs-cpu.ts'
import { wallNow, type JobSystem, type JobToEnqueue } from './jobs-system.ts'
import { JobTracker } from './jobs-tracker.ts'

/**
 * The four measurements of one system, each over `n` jobs of a run's own tag. The system's workers are
 * started once with `onStarted`, which forwards to the tracker of the measurement under way (`track`).
 */
export interface Bench {
  system: JobSystem
  cpu: JobsCpu
  n: number
  bulkSize: number
  timeoutMs: number
  track(tracker: JobTracker | undefined): void
}

/** Enqueue with the workers stopped, then start them and drain: both rates apart, and the workers' CPU. */
export interface Separated {
  enqueueJobsPerSec: number
  enqueueMs: number
  /** from the first job started to the last (the workers' start-up left out, for every system alike) */
  drainJobsPerSec: number
  /** from startWorkers() to the last job started */
  drainWithStartJobsPerSec: number
  cpu: JobsCpuUse
  duplicates: number
}

/** Enqueued in bulk while the workers run: the first enqueue call to the last job started. */
export interface Throughput {
  jobsPerSec: number
  enqueueJobsPerSec: number
  duplicates: number
}

export type DueShape = 'instant' | 'spread'

/** `n` delayed jobs due at one instant T (`instant`), or spread evenly over the second from T (`spread`). */
export interface Lateness {
  shape: DueShape
  /** how far ahead T was set: longer than the bulk enqueue takes, so every job is stored before it is due */
  leadMs: number
  enqueueMs: number
  /** the earliest start: how soon after T the first job ran (the sleeper's wake-up and the first claim) */
  minMs: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  duplicates: number
  /** the system's own account of the time, where it gives one (JobSystem.probe) */
  probe?: Record<string, unknown>
}

/** The bulk enqueue took longer than the lead: the jobs were not all stored before they were due. */
export class LeadTooShort extends Error {}

const immediate = (tag: string, n: number): JobToEnqueue[] => Array.from({ length: n }, (_, seq) => ({ tag, seq }))

async function measured<T>(bench: Bench, tracker: JobTracker, what: string, body: () => Promise<T>): Promise<T> {
  bench.track(tracker)
  try {
    const result = await body()
    await tracker.wait(bench.timeoutMs, `${bench.system.label} ${what}`)
    return result
  } finally {
    bench.track(undefined)
  }
}

/** Expects the workers stopped; leaves them running. */
export async function separated(bench: Bench, startWorkers: () => Promise<void>): Promise<Separated> {
  const tag = randomUUID().slice(0, 8)
  const tracker = new JobTracker(tag, bench.n)
  const began = wallNow()
  await bench.system.enqueue(immediate(tag, bench.n), bench.bulkSize)
  const enqueued = wallNow()
  for (let seq = 0; seq < bench.n; seq++) tracker.due(seq, enqueued)
  const before = await bench.cpu.sample()
  const starting = wallNow()
  await measured(bench, tracker, 'drain', startWorkers)
  const after = await bench.cpu.sample()
  const enqueueMs = enqueued - began
  return {
    enqueueJobsPerSec: bench.n / (enqueueMs / 1000),
    enqueueMs,
    drainJobsPerSec: (bench.n - 1) / ((tracker.last - tracker.first) / 1000),
    drainWithStartJobsPerSec: bench.n / ((tracker.last - starting) / 1000),
    cpu: JobsCpu.use(before, after, bench.n),
    duplicates: tracker.duplicates
  }
}

/** Expects the workers running. */
export async function throughput(bench: Bench): Promise<Throughput> {
  const tag = randomUUID().slice(0, 8)
  const tracker = new JobTracker(tag, bench.n)
  const began = wallNow()
  for (let seq = 0; seq < bench.n; seq++) tracker.due(seq, began)
  const enqueued = await measured(bench, tracker, 'throughput', async () => {
    await bench.system.enqueue(immediate(tag, bench.n), bench.bulkSize)
    return wallNow()
  })
  return {
    jobsPerSec: bench.n / ((tracker.last - began) / 1000),
    enqueueJobsPerSec: bench.n / ((enqueued - began) / 1000),
    duplicates: tracker.duplicates
  }
}

/** Expects the workers running. `leadMs` must exceed the time the bulk enqueue takes, or it throws LeadTooShort. */
export async function lateness(bench: Bench, shape: DueShape, leadMs: number): Promise<Lateness> {
  const tag = randomUUID().slice(0, 8)
  const tracker = new JobTracker(tag, bench.n)
  const began = wallNow()
  const at = Math.ceil(began + leadMs)
  const jobs = immediate(tag, bench.n).map((job) => ({ ...job, dueAt: shape === 'instant' ? at : at + (job.seq * 1000) / bench.n }))
  for (const job of jobs) tracker.due(job.seq, job.dueAt)
  bench.system.probe?.begin()
  const enqueueMs = await measured(bench, tracker, `lateness (${shape})`, async () => {
    await bench.system.enqueue(jobs, bench.bulkSize)
    const took = wallNow() - began
    if (wallNow() > at) throw new LeadTooShort(`${bench.system.label}: enqueuing took ${Math.round(took)} ms, longer than the ${leadMs} ms lead`)
    return took
  })
  return { shape, leadMs, enqueueMs, ...tracker.lateness(), duplicates: tracker.duplicates, probe: await bench.system.probe?.end(tag, bench.n) }
}

/**
 * `lateness` with T set 1.5 times the last bulk enqueue's time ahead (+ 500 ms), and once more with twice
 * that lead if the enqueue was slower still (the machine is shared; another run's burst can halve a rate).
 */
export async function latenessWithLead(bench: Bench, shape: DueShape, lastEnqueueMs: number, minLeadMs: number): Promise<Lateness> {
  const leadMs = Math.max(minLeadMs, Math.round(lastEnqueueMs * 1.5 + 500))
  try {
    return await lateness(bench, shape, leadMs)
  } catch (err) {
    if (!(err instanceof LeadTooShort)) throw err
    console.error(`  ${err.message}: once more with a ${leadMs * 2} ms lead`)
    return lateness(bench, shape, leadMs * 2)
  }
}
