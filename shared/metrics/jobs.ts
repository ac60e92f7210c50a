import { Counter, Histogram, type Registry } from 'prom-client'
import type { Jobs } from '../jobs/jobs.ts'
import { SECONDS_BUCKETS } from './registry.ts'

/**
 * The scheduler's lateness (how long after its due time a job's handler started) and its outcomes,
 * by job name (names are declared in code: bounded), from the events Jobs emits.
 */
export function watchJobs(registry: Registry, jobs: Jobs): void {
  const lateness = new Histogram({
    name: 'bazaar_job_lateness_seconds',
    help: 'How long after its due time a job handler started',
    labelNames: ['job'],
    buckets: SECONDS_BUCKETS,
    registers: [registry]
  })
  const runs = new Counter({
    name: 'bazaar_jobs_total',
    help: 'Job attempts by outcome: fired (committed), retried, failed (no attempt left)',
    labelNames: ['job', 'outcome'],
    registers: [registry]
  })
  jobs.on('fired', (job) => {
    lateness.labels(job.name).observe(Math.max(0, job.latenessMs) / 1000)
    runs.labels(job.name, 'fired').inc()
  })
  jobs.on('failed', (job) => runs.labels(job.name, job.willRetry ? 'retried' : 'failed').inc())
}
