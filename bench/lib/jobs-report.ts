import Table from 'cli-table3'
import { median } from './stats.ts'
import type { Lateness, Separated, Throughput } from './jobs-scenarios.ts'
import type { JobSystem } from './jobs-system.ts'
import type { SystemKey } from './jobs-systems.ts'

/** Every measurement of one system over the runs. */
export interface SystemRuns {
  key: SystemKey
  system: JobSystem
  separated: Separated[]
  throughput: Throughput[]
  instant: Lateness[]
  spread: Lateness[]
  errors: string[]
}

/** The medians over the runs of each figure the table shows. */
export interface SystemMedians {
  enqueueJobsPerSec: number
  drainJobsPerSec: number
  drainWithStartJobsPerSec: number
  jobsPerSec: number
  bulkEnqueueWhileDrainingJobsPerSec: number
  cpu: { workerMsPerK: number; postgresOursMsPerK: number; postgresAllMsPerK: number; redisMsPerK: number }
  instant: { p50Ms: number; p99Ms: number; maxMs: number }
  spread: { p50Ms: number; p99Ms: number; maxMs: number }
  duplicates: number
}

const goals = {
  /** Bazaar's jobs/s (bulk enqueue while draining) over the best durable peer's: at least */
  throughputOverBestDurablePeer: 1,
  /** p99 lateness, both shapes: under this, and under BullMQ's */
  p99LatenessMs: 100
}

const pick = <T>(list: T[], f: (item: T) => number | undefined) => median(list.map(f).filter((v): v is number => v !== undefined))
const latenessMedians = (list: Lateness[]) => ({ p50Ms: pick(list, (l) => l.p50Ms), p99Ms: pick(list, (l) => l.p99Ms), maxMs: pick(list, (l) => l.maxMs) })

export function mediansOf(runs: SystemRuns): SystemMedians {
  const s = runs.separated
  return {
    enqueueJobsPerSec: pick(s, (r) => r.enqueueJobsPerSec),
    drainJobsPerSec: pick(s, (r) => r.drainJobsPerSec),
    drainWithStartJobsPerSec: pick(s, (r) => r.drainWithStartJobsPerSec),
    jobsPerSec: pick(runs.throughput, (r) => r.jobsPerSec),
    bulkEnqueueWhileDrainingJobsPerSec: pick(runs.throughput, (r) => r.enqueueJobsPerSec),
    cpu: {
      workerMsPerK: pick(s, (r) => r.cpu.workerMsPerK),
      postgresOursMsPerK: pick(s, (r) => r.cpu.postgresOursMsPerK),
      postgresAllMsPerK: pick(s, (r) => r.cpu.postgresAllMsPerK),
      redisMsPerK: pick(s, (r) => r.cpu.redisMsPerK)
    },
    instant: latenessMedians(runs.instant),
    spread: latenessMedians(runs.spread),
    duplicates: Math.max(0, ...[...s, ...runs.throughput, ...runs.instant, ...runs.spread].map((r) => r.duplicates))
  }
}

const round = (value: number, digits = 0) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : undefined)
const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-')
const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a')

/** One line per measurement, as the run goes. */
export function describeJobs(result: Separated | Throughput | Lateness): string {
  if ('shape' in result) {
    return `lateness min ${fmt(result.minMs, 1)} ms, p50 ${fmt(result.p50Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms, max ${fmt(result.maxMs, 1)} ms (lead ${result.leadMs} ms, enqueued in ${fmt(result.enqueueMs)} ms)` +
      (result.duplicates ? `  DUPLICATES ${result.duplicates}` : '')
  }
  if ('drainJobsPerSec' in result) {
    const c = result.cpu
    return `enqueue ${fmt(result.enqueueJobsPerSec)} jobs/s, drain ${fmt(result.drainJobsPerSec)} jobs/s (${fmt(result.drainWithStartJobsPerSec)} with the start), ` +
      `CPU/1k jobs: workers ${fmt(c.workerMsPerK, 1)} ms, postgres ours ${c.postgresOursMsPerK ?? '?'} ms (all ${c.postgresAllMsPerK ?? '?'}), redis ${c.redisMsPerK ?? '?'} ms` +
      (result.duplicates ? `  DUPLICATES ${result.duplicates}` : '')
  }
  return `${fmt(result.jobsPerSec)} jobs/s (enqueue ${fmt(result.enqueueJobsPerSec)} jobs/s)` + (result.duplicates ? `  DUPLICATES ${result.duplicates}` : '')
}

/** Bazaar against the best durable peer (by jobs/s; by p99 for lateness) and against BullMQ. */
export function comparisons(all: SystemRuns[]) {
  const medians = new Map(all.map((r) => [r.key, mediansOf(r)]))
  const peers = all.filter((r) => r.key !== 'bazaar' && r.system.durable)
  const best = (score: (m: SystemMedians) => number, better: (a: number, b: number) => boolean) =>
    peers.reduce<SystemRuns | undefined>((top, r) => {
      const value = score(medians.get(r.key)!)
      if (!Number.isFinite(value)) return top
      return top === undefined || better(value, score(medians.get(top.key)!)) ? r : top
    }, undefined)
  const fastest = best((m) => m.jobsPerSec, (a, b) => a > b)
  const fastestDrain = best((m) => m.drainJobsPerSec, (a, b) => a > b)
  const leastLate = best((m) => m.instant.p99Ms, (a, b) => a < b)
  const bazaar = medians.get('bazaar')
  const bull = medians.get('bullmq')
  const of = (key: SystemKey | undefined) => (key ? medians.get(key) : undefined)
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : a / b)
  const ratios = {
    jobsPerSecOverBestDurablePeer: ratio(bazaar?.jobsPerSec, of(fastest?.key)?.jobsPerSec),
    drainOverBestDurablePeer: ratio(bazaar?.drainJobsPerSec, of(fastestDrain?.key)?.drainJobsPerSec),
    jobsPerSecOverBullmq: ratio(bazaar?.jobsPerSec, bull?.jobsPerSec),
    drainOverBullmq: ratio(bazaar?.drainJobsPerSec, bull?.drainJobsPerSec),
    instantP99OverBestDurablePeer: ratio(bazaar?.instant.p99Ms, of(leastLate?.key)?.instant.p99Ms),
    instantP99OverBullmq: ratio(bazaar?.instant.p99Ms, bull?.instant.p99Ms),
    spreadP99OverBullmq: ratio(bazaar?.spread.p99Ms, bull?.spread.p99Ms),
    workerCpuOverBestDurablePeer: ratio(bazaar?.cpu.workerMsPerK, of(fastest?.key)?.cpu.workerMsPerK),
    workerCpuOverBullmq: ratio(bazaar?.cpu.workerMsPerK, bull?.cpu.workerMsPerK)
  }
  const below = (p99: number | undefined, bar: number | undefined) => p99 !== undefined && bar !== undefined && p99 < bar
  const met = {
    throughputOverBestDurablePeer: ratios.jobsPerSecOverBestDurablePeer >= goals.throughputOverBestDurablePeer,
    instantP99Under100Ms: below(bazaar?.instant.p99Ms, goals.p99LatenessMs),
    instantP99UnderBullmq: below(bazaar?.instant.p99Ms, bull?.instant.p99Ms),
    spreadP99Under100Ms: below(bazaar?.spread.p99Ms, goals.p99LatenessMs),
    spreadP99UnderBullmq: below(bazaar?.spread.p99Ms, bull?.spread.p99Ms)
  }
  return { medians, fastestDurablePeer: fastest?.key, fastestDrainDurablePeer: fastestDrain?.key, leastLateDurablePeer: leastLate?.key, ratios, met }
}

export function printJobsTable(all: SystemRuns[], runs: number): void {
  const { medians, fastestDurablePeer, ratios, met } = comparisons(all)
  const table = new Table({
    style: { head: [], border: [] },
    head: ['system', 'guarantee', 'jobs/s (bulk enqueue while draining)', 'enqueue jobs/s', 'drain jobs/s', 'lateness, all due at T: p50 / p99 / max ms',
      'spread over 1 s: p50 / p99 / max ms', 'CPU ms / 1k jobs: workers, postgres (ours, all), redis'],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']
  })
  for (const r of all) {
    const m = medians.get(r.key)!
    const late = (l: SystemMedians['instant']) => `${fmt(l.p50Ms)} / ${fmt(l.p99Ms)} / ${fmt(l.maxMs)}`
    table.push([
      r.system.label + (m.duplicates ? ` (DUPLICATES ${m.duplicates})` : ''), r.system.guarantees, fmt(m.jobsPerSec), fmt(m.enqueueJobsPerSec), fmt(m.drainJobsPerSec),
      late(m.instant), late(m.spread),
      `${fmt(m.cpu.workerMsPerK, 1)}, ${fmt(m.cpu.postgresOursMsPerK)} (${fmt(m.cpu.postgresAllMsPerK)}), ${fmt(m.cpu.redisMsPerK)}`
    ])
  }
  console.log(`\nmedians of ${runs} run(s); lateness = the handler's start minus the job's due time (wall clock, one machine)`)
  console.log(table.toString())
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
  if (medians.has('bazaar')) {
    console.log(
      `Bazaar jobs/s / best durable peer's (${fastestDurablePeer ?? '?'}): ${x(ratios.jobsPerSecOverBestDurablePeer)}, goal >= 1: ${verdict(met.throughputOverBestDurablePeer)}; ` +
        `drain ${x(ratios.drainOverBestDurablePeer)}; vs BullMQ ${x(ratios.jobsPerSecOverBullmq)} (drain ${x(ratios.drainOverBullmq)})`
    )
    console.log(
      `Bazaar p99 lateness: at one instant ${x(ratios.instantP99OverBullmq)} BullMQ's, spread ${x(ratios.spreadP99OverBullmq)} BullMQ's; ` +
        `goal < 100 ms: instant ${verdict(met.instantP99Under100Ms)}, spread ${verdict(met.spreadP99Under100Ms)}; ` +
        `goal < BullMQ's: instant ${verdict(met.instantP99UnderBullmq)}, spread ${verdict(met.spreadP99UnderBullmq)}`
    )
    const bazaarRuns = all.find((r) => r.key === 'bazaar')!
    const probed = (list: Lateness[], field: 'runnerLateness' | 'committedLateness') =>
      fmt(median(list.map((l) => (l.probe?.[field] as { p99Ms?: number } | undefined)?.p99Ms ?? NaN)))
    console.log(
      `Bazaar's own account (fired events, database clock), p99 medians: handler start ${probed(bazaarRuns.instant, 'runnerLateness')} ms at one instant, ` +
        `${probed(bazaarRuns.spread, 'runnerLateness')} ms spread; its batch committed ${probed(bazaarRuns.instant, 'committedLateness')} / ${probed(bazaarRuns.spread, 'committedLateness')} ms after the due time`
    )
    console.log(`Bazaar worker CPU per job: ${x(ratios.workerCpuOverBestDurablePeer)} the best durable peer's, ${x(ratios.workerCpuOverBullmq)} BullMQ's`)
  }
  for (const r of all) for (const error of r.errors) console.log(`${r.system.label}: ${error}`)
  console.log(
    'the machine has 2 cores shared with other test runs: read medians and ratios; "postgres, all" includes other clients of the server, ' +
      '"ours" is this run\'s backends plus the server\'s background processes'
  )
}

const roundLateness = (l: SystemMedians['instant']) => ({ p50Ms: round(l.p50Ms, 1), p99Ms: round(l.p99Ms, 1), maxMs: round(l.maxMs, 1) })

/** What bench/results/jobs.json holds. */
export function jobsReport(all: SystemRuns[], extra: Record<string, unknown>): object {
  const { medians, ratios, met, fastestDurablePeer, fastestDrainDurablePeer, leastLateDurablePeer } = comparisons(all)
  return {
    benchmark: 'jobs',
    ...extra,
    goals,
    met,
    fastestDurablePeer,
    fastestDrainDurablePeer,
    leastLateDurablePeer,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 3)])),
    systems: all.map((r) => {
      const m = medians.get(r.key)!
      return {
        key: r.key,
        label: r.system.label,
        durable: r.system.durable,
        guarantees: r.system.guarantees,
        settings: r.system.settings,
        medians: {
          jobsPerSec: round(m.jobsPerSec), bulkEnqueueWhileDrainingJobsPerSec: round(m.bulkEnqueueWhileDrainingJobsPerSec),
          enqueueJobsPerSec: round(m.enqueueJobsPerSec), drainJobsPerSec: round(m.drainJobsPerSec), drainWithStartJobsPerSec: round(m.drainWithStartJobsPerSec),
          cpuMsPerK: Object.fromEntries(Object.entries(m.cpu).map(([k, v]) => [k, round(v, 1)])),
          latenessAllAtT: roundLateness(m.instant), latenessSpreadOverOneSecond: roundLateness(m.spread), duplicates: m.duplicates
        },
        runs: { separated: r.separated, throughput: r.throughput, instant: r.instant, spread: r.spread },
        errors: r.errors
      }
    })
  }
}
