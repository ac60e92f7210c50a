import type { SqlTransaction } from '../bus/sql.ts'
import type { Application as KoaApplication } from '@feathersjs/koa'
import type { HookContext as FeathersHookContext } from '@feathersjs/feathers'
import type { KnexAdapterTransaction } from '@feathersjs/knex'
import type { Knex } from 'knex'
import type { Bus } from '../bus/bus.ts'
import type { OutboxRelay } from '../bus/outbox-relay.ts'
import type { Jobs } from '../jobs/jobs.ts'
import type { Logger } from '../log/logger.ts'
import type { AppMetrics } from '../metrics/app-metrics.ts'
import type { BazaarEnv } from '../config/env.ts'
import type { RequestListener } from '../http/route.ts'

/** Work to run at start, after migrations and the broker connection, before consuming (see onStart()). */
export type StartStep = (app: ServiceApp) => Promise<void>

/** What every Bazaar service app has in its settings. */
export interface BazaarSettings {
  service: string
  env: BazaarEnv
  namespace: string
  /** this service's PostgreSQL schema */
  schema: string
  db: Knex
  bus: Bus
  outbox: OutboxRelay
  /** delayed jobs and recurring schedules in this service's schema (shared/jobs, docs/jobs.md) */
  jobs: Jobs
  logger: Logger
  /** this app's Prometheus registry and families, served at `GET /metrics` (docs/observability.md) */
  metrics: AppMetrics
  /** the service's own configuration, validated against its schema */
  config: Record<string, unknown>
  /** true from the end of setup to the start of teardown: `/health` and the SSE endpoint answer 503 otherwise */
  ready?: boolean
  /** what else `/health` waits for (see readiness() in health.ts) */
  readiness?: ReadinessCheck[]
  /** what onStart() registered, in order */
  startSteps?: StartStep[]
  /**
   * The HTTP server's request listener, built around Koa's (see serve()); unset, Koa answers every
   * request. A service that answers some paths outside Koa (the gateway's `/events`) sets it.
   */
  requestListener?: (koa: RequestListener) => RequestListener
}

/** Something a service must have before it is ready, e.g. its in-memory stores caught up. */
export interface ReadinessCheck {
  name: string
  ready(): boolean
}

/**
 * Each service's own configuration type, by service name (validated against its schema at start,
 * see createServiceApp's `config`; read it with serviceConfig()). A service's declarations.ts adds
 * its entry by declaration merging.
 */
export interface ServiceConfigs {}

/**
 * A service adds its own settings by declaration merging, in its `declarations.ts`:
 * `declare module '../../shared/feathers/declarations.ts' { interface BazaarSettings { ... } }`.
 */

export type ServiceApp = KoaApplication<any, BazaarSettings>
export type HookContext<S = any> = FeathersHookContext<ServiceApp, S>

/** Who is calling, as established by authentication. */
export interface Caller {
  id: string
  role: 'buyer' | 'seller' | 'admin'
  email?: string
  /** the display name the token was issued with (may be older than the user's current name) */
  name?: string
}

declare module '@feathersjs/feathers' {
  interface Params {
    caller?: Caller
    requestId?: string
    /** the knex transaction a method runs in (see transactional()); the same shape @feathersjs/knex uses */
    transaction?: KnexAdapterTransaction
    /** the plain-SQL transaction a method runs in instead (see sqlTransactional()): no knex on a hot write path */
    sqlTransaction?: SqlTransaction
  }
}
