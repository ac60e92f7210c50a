import { schemaName } from '../../shared/db/database.ts'
import { intFromEnv } from './env.ts'
import { BazaarSystem } from './jobs-bazaar.ts'
import { BullmqSystem } from './jobs-bullmq.ts'
import { GraphileSystem } from './jobs-graphile.ts'
import { PgBossSystem } from './jobs-pgboss.ts'
import type { JobSystem } from './jobs-system.ts'

export type SystemKey = 'bazaar' | 'pgboss' | 'graphile' | 'bullmq'

export interface SystemsContext {
  namespace: string
  /** with this run's application_name, so its PostgreSQL backends can be told apart */
  databaseUrl: string
  applicationName: string
  amqpUrl: string
  redisUrl: string
}

/** BENCH_JOBS_BAZAAR_RUNNER='{"batchSize":2500}': other runner settings than the defaults, to find better ones. */
function bazaarRunnerFromEnv(): Record<string, number> {
  const raw = process.env.BENCH_JOBS_BAZAAR_RUNNER
  if (!raw) return {}
  const parsed: unknown = JSON.parse(raw)
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'number')) {
    throw new Error(`BENCH_JOBS_BAZAAR_RUNNER must be a JSON object of numbers (got ${raw})`)
  }
  return parsed as Record<string, number>
}

/** Every system of the benchmark, each in a schema (`<namespace>_<name>`, dropped with the namespace) or Redis prefix of the run's own. */
export function jobSystems(ctx: SystemsContext): Array<{ key: SystemKey; system: JobSystem }> {
  return [
    { key: 'bazaar', system: new BazaarSystem(ctx.databaseUrl, schemaName(ctx.namespace, 'bench_jobs'), bazaarRunnerFromEnv()) },
    { key: 'pgboss', system: new PgBossSystem(ctx.databaseUrl, schemaName(ctx.namespace, 'pgboss'), ctx.applicationName) },
    { key: 'graphile', system: new GraphileSystem(ctx.databaseUrl, schemaName(ctx.namespace, 'graphile')) },
    { key: 'bullmq', system: new BullmqSystem(ctx.redisUrl, `${ctx.namespace}_bullmq`, { concurrency: intFromEnv('BENCH_JOBS_BULLMQ_CONCURRENCY', 100) }) }
  ]
}
