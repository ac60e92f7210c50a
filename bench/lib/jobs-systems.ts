import { schemaName } from '../../shared/db/database.ts'
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

/** Every system of the benchmark, each in a schema (`<namespace>_<name>`, dropped with the namespace) or Redis prefix of the run's own. */
export function jobSystems(ctx: SystemsContext): Array<{ key: SystemKey; system: JobSystem }> {
  return [
    { key: 'pgboss', system: new PgBossSystem(ctx.databaseUrl, schemaName(ctx.namespace, 'pgboss'), ctx.applicationName) },
    { key: 'graphile', system: new GraphileSystem(ctx.databaseUrl, schemaName(ctx.namespace, 'graphile')) },
    { key: 'bullmq', system: new BullmqSystem(ctx.redisUrl, `${ctx.namespace}_bullmq`) }
  ]
}
