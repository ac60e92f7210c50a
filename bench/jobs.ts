/**
 * `npm run bench -- jobs`: Bazaar's jobs (shared/jobs) against pg-boss 12 and graphile-worker on the same
 * PostgreSQL and BullMQ on the machine's Redis, measured in one run, interleaved, BENCH_RUNS times:
 *
 * 1. separated: N jobs enqueued in bulk with the workers stopped (enqueue jobs/s), then the workers
 *    started and the queue drained (drain jobs/s, and the workers' CPU per 1,000 jobs, with PostgreSQL's
 *    and Redis's server CPU beside it);
 * 2. throughput: N jobs enqueued in bulk while the workers run, first enqueue to last job started;
 * 3. lateness: N delayed jobs due at one instant T, then N spread evenly over the second from T:
 *    p50/p99/max of the handler's start minus the due time.
 *
 * Every system runs in a schema (or Redis prefix) of this run's own, removed at the end.
 */
import { cpus, loadavg } from 'node:os'
import { readEnv } from '../shared/config/env.ts'
import { ensureDatabase, schemaName } from '../shared/db/database.ts'
import { Management, dropNamespaceSchemas, uniqueNamespace } from '../shared/testing/index.ts'
import { intFromEnv } from './lib/env.ts'
import { JobsCpu, withApplicationName } from './lib/jobs-cpu.ts'
import { describeJobs, jobsReport, printJobsTable, type SystemRuns } from './lib/jobs-report.ts'
import { latenessWithLead, separated, throughput, type Bench, type Lateness, type Separated, type Throughput } from './lib/jobs-scenarios.ts'
import { batchAnatomy, enqueueAnatomy, type BatchAnatomy, type EnqueueAnatomy } from './lib/jobs-profile.ts'
import { jobSystems } from './lib/jobs-systems.ts'
import type { JobTracker } from './lib/jobs-tracker.ts'

const config = {
  n: intFromEnv('BENCH_JOBS_N', 10_000),
  runs: intFromEnv('BENCH_RUNS', 3),
  /** jobs per bulk call (insert, addJobs, addBulk, one Bazaar transaction) */
  bulkSize: intFromEnv('BENCH_JOBS_BULK', 1_000),
  /** the smallest lead before delayed jobs are due; it grows to 1.5x the system's last bulk enqueue time + 500 ms */
  minLeadMs: intFromEnv('BENCH_JOBS_MIN_LEAD_MS', 1_000),
  timeoutMs: intFromEnv('BENCH_JOBS_TIMEOUT_MS', 120_000),
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  /** BENCH_JOBS_PROFILE=0 leaves out the SQL-only anatomy of Bazaar's batches (a few seconds) */
  profile: process.env.BENCH_JOBS_PROFILE !== '0',
  /** a comma-separated subset of the systems (bazaar,pgboss,graphile,bullmq), for profiling one */
  only: process.env.BENCH_JOBS_ONLY ? process.env.BENCH_JOBS_ONLY.split(',').map((s) => s.trim()) : undefined
}

export async function runJobsBenchmark(): Promise<object> {
  const env = readEnv()
  const namespace = uniqueNamespace('bench_jobs')
  const applicationName = `bench_${namespace}`
  const databaseUrl = withApplicationName(env.databaseUrl, applicationName)
  await ensureDatabase(env.databaseUrl)
  const systems = jobSystems({ namespace, databaseUrl, applicationName, amqpUrl: env.amqpUrl, redisUrl: config.redisUrl }).filter(
    (s) => !config.only || config.only.includes(s.key)
  )
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100)
  console.log(
    `jobs benchmark, namespace ${namespace}: N=${config.n} jobs per measurement, ${config.runs} run(s), bulk calls of ${config.bulkSize}, ` +
      `systems ${systems.map((s) => s.system.label).join(', ')}; load average ${loadAtStart.join(' ')} on ${cpus().length} cores`
  )
  const cpu = new JobsCpu(env.databaseUrl, applicationName)
  await cpu.open()
  const began = performance.now()
  const runs: SystemRuns[] = systems.map((s) => ({ key: s.key, system: s.system, separated: [], throughput: [], instant: [], spread: [], errors: [] }))
  let profile: { batches: BatchAnatomy[]; enqueue: EnqueueAnatomy } | undefined
  const cleanup = async () => {
    for (const { system } of systems) await system.teardown().catch((err: Error) => console.error(`teardown of ${system.label}: ${err.message}`))
    await cpu.close()
    await new Management().deleteNamespace(namespace).catch((err: Error) => console.error(`cleanup of queues failed: ${err.message}`))
    await dropNamespaceSchemas(namespace).catch((err: Error) => console.error(`cleanup of schemas failed: ${err.message}`))
  }
  const onSignal = () => {
    console.error(`\ninterrupted; removing namespace ${namespace}`)
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for (const { system } of systems) await system.setup()
    for (let run = 1; run <= config.runs; run++) {
      for (const entry of runs) {
        let current: JobTracker | undefined
        const bench: Bench = {
          system: entry.system, cpu, n: config.n, bulkSize: config.bulkSize, timeoutMs: config.timeoutMs,
          track: (tracker) => { current = tracker }
        }
        const startWorkers = () => entry.system.startWorkers((job) => current?.onStarted(job))
        const step = async <T extends Separated | Throughput | Lateness>(what: string, list: T[], measure: () => Promise<T>) => {
          try {
            const result = await measure()
            list.push(result)
            console.log(`  run ${run}/${config.runs} ${entry.system.label.padEnd(34)} ${what.padEnd(10)} ${describeJobs(result)}`)
          } catch (err) {
            entry.errors.push(`run ${run} ${what}: ${(err as Error).message}`)
            console.error(`  run ${run}/${config.runs} ${entry.system.label} ${what} FAILED: ${(err as Error).message}`)
          }
        }
        try {
          await step('separated', entry.separated, () => separated(bench, startWorkers))
          await step('throughput', entry.throughput, () => throughput(bench))
          const lastEnqueueMs = () => entry.instant.at(-1)?.enqueueMs ?? entry.separated.at(-1)?.enqueueMs ?? 2_000
          await step('instant', entry.instant, () => latenessWithLead(bench, 'instant', lastEnqueueMs(), config.minLeadMs))
          await step('spread', entry.spread, () => latenessWithLead(bench, 'spread', lastEnqueueMs(), config.minLeadMs))
        } finally {
          // Stopped between turns: no system's polling competes with the next one's measurement.
          await entry.system.stopWorkers()
        }
      }
    }
    if (config.profile && systems.some((s) => s.key === 'bazaar')) profile = await profileBazaar(databaseUrl, schemaName(namespace, 'bench_jobs'))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
  }
  const seconds = (performance.now() - began) / 1000
  printJobsTable(runs, config.runs)
  console.log(`total ${seconds.toFixed(0)} s`)
  return jobsReport(runs, { namespace, config, loadAtStart, totalSeconds: Math.round(seconds), bazaarProfile: profile })
}

/** The SQL-only anatomy of Bazaar's batches at its defaults and beside them, and what scheduling one row a round trip costs. */
async function profileBazaar(databaseUrl: string, schema: string): Promise<{ batches: BatchAnatomy[]; enqueue: EnqueueAnatomy }> {
  const batches: BatchAnatomy[] = []
  const shapes = [[4, 1_000, 'move'], [1, 1_000, 'move'], [4, 2_500, 'move'], [4, 1_000, 'delete']] as const
  for (const [claimers, batchSize, finish] of shapes) batches.push(await batchAnatomy(databaseUrl, schema, config.n, claimers, batchSize, finish))
  const enqueue = await enqueueAnatomy(databaseUrl, schema)
  console.log(`
Bazaar's batches, SQL only (${config.n} due rows, no handler; medians per batch):`)
  for (const b of batches) {
    console.log(
      `  ${b.claimers} claimer(s) x ${b.batchSize}, finished by ${b.finish}: ${b.jobsPerSec.toLocaleString('en-US')} jobs/s in ${b.batches} batches; ` +
        `claim ${b.claimMs} ms, cancels look-up ${b.cancelsLookupMs} ms, ${b.finish} ${b.completeMs} ms, commit ${b.commitMs} ms`
    )
  }
  console.log(`  scheduling ${enqueue.rows} jobs in one transaction: one insert a job ${enqueue.oneInsertPerJobMs} ms, one multi-row insert ${enqueue.oneMultiRowInsertMs} ms`)
  return { batches, enqueue }
}
