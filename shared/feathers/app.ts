import { Server, type IncomingMessage } from 'node:http'
import { feathers } from '@feathersjs/feathers'
import { koa, rest, type Middleware } from '@feathersjs/koa'
import { Ajv, addFormats } from '@feathersjs/schema'
import type { TObject } from '@feathersjs/typebox'
import { readEnv, type BazaarEnv } from '../config/env.ts'
import { createLogger } from '../log/logger.ts'
import { createKnex, checkDatabase, schemaName } from '../db/database.ts'
import { migrate, type Migration } from '../db/migrations.ts'
import { Bus } from '../bus/bus.ts'
import { busMigrations } from '../bus/outbox-table.ts'
import { OutboxRelay } from '../bus/outbox-relay.ts'
import { InboxJanitor } from '../bus/inbox.ts'
import { OutcomeLog } from '../bus/outcome-log.ts'
import { flushTracing, tracingFromEnv } from '../tracing/provider.ts'
import { Jobs, type JobsOptions } from '../jobs/jobs.ts'
import { jobMigrations } from '../jobs/tables.ts'
import type { HookContext, ServiceApp, StartStep } from './declarations.ts'
import { errorBodies, mapErrors } from './errors.ts'
import { requestId } from './request-id.ts'
import { guardPrototypePaths } from './route-guard.ts'
import { singleRecord } from './validation.ts'
import { jsonBody } from './body.ts'
import { answerExpectContinue, refuseOversizedBodies } from './body-limit.ts'
import { MAX_BODY_BYTES, bodyLimitFor } from './limits.ts'
import { storableText } from './storable-text.ts'
import { health } from './health.ts'
import { AppMetrics, metricsRoute } from '../metrics/index.ts'

export interface ServiceAppOptions {
  /** the microservice's name: its schema, queues and log lines carry it */
  service: string
  migrations: Migration[]
  env?: BazaarEnv
  /** the service's own settings: a TypeBox schema and the values (usually from the environment) */
  config?: { schema: TObject; values: Record<string, unknown> }
  /**
   * Koa middleware that runs after request ids and error bodies but before the
   * body parser: for handlers that must see the request stream untouched
   * (the gateway's reverse proxy).
   */
  beforeBody?: Middleware[]
  /**
   * How its jobs run (shared/jobs): the defaults batch thousands of quick jobs per transaction; a service
   * whose jobs wait on another system (an HTTP call) runs small batches, many at once.
   */
  jobs?: JobsOptions['runner']
}

/**
 * The Feathers app every Bazaar service starts from: configuration (validated),
 * request ids and Feathers error bodies, REST, its database schema with
 * migrations, the bus with its outbox relay, `/health`, and an ordered
 * setup/teardown. A service adds its resources and consumers, then listens.
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const env = options.env ?? readEnv()
  const logger = createLogger(options.service)
  const schema = schemaName(env.namespace, options.service)
  const app = koa(feathers()) as unknown as ServiceApp
  // spans exported with OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise none are made (shared/tracing)
  tracingFromEnv(options.service)

  app.set('service', options.service)
  app.set('env', env)
  app.set('namespace', env.namespace)
  app.set('schema', schema)
  app.set('logger', logger)
  app.set('config', validateConfig(options.service, options.config))

  const db = createKnex(env.databaseUrl, schema)
  app.set('db', db)
  const bus = new Bus({ url: env.amqpUrl, urls: env.amqpUrls, namespace: env.namespace, service: options.service, logger, parking: { db, schema } })
  app.set('bus', bus)
  const outbox = new OutboxRelay({ db, databaseUrl: env.databaseUrl, schema, namespace: env.namespace, service: options.service, publisher: bus.publisher, logger })
  app.set('outbox', outbox)
  const janitor = new InboxJanitor({ db, schema, logger })
  // retries, dead letters, parked keys and duplicates, for `bazaar trace`
  const outcomes = new OutcomeLog({ db, schema, logger })
  // delayed jobs and schedules: defined by the service's configure calls, run only if any were
  const jobs = new Jobs({ db, databaseUrl: env.databaseUrl, schema, logger, runner: { retentionMs: env.jobsRetentionMs, ...options.jobs } })
  app.set('jobs', jobs)

  app.use(requestId(options.service))
  app.use(errorBodies(logger))
  app.use(guardPrototypePaths())
  // Prometheus text on every service's port, ahead of the gateway's proxy and of body parsing.
  const metrics = new AppMetrics({ service: options.service, db, schema, bus, jobs, logger })
  app.set('metrics', metrics)
  app.use(metricsRoute(metrics.registry))
  // one body limit for every path of every service, the gateway's proxied ones included
  app.use(refuseOversizedBodies(requestBodyLimit))
  for (const middleware of options.beforeBody ?? []) app.use(middleware)
  app.use(jsonBody(MAX_BODY_BYTES))
  app.configure(rest())


  app.configure(health)
  // No resource takes several records in one call from outside: an array body (bulk create/patch) is a 400 everywhere.
  const oneRecord = singleRecord()
  const externalOneRecord = async (context: HookContext) => (context.params.provider ? oneRecord(context) : undefined)
  app.hooks({
    // first of all: text PostgreSQL cannot store is a 400 naming the field, on every method of every service
    around: { all: [storableText()] },
    before: { create: [externalOneRecord], update: [externalOneRecord], patch: [externalOneRecord] },
    error: { all: [mapErrors(logger)] }
  })
  // the server serve() set the app up on: teardown closes it
  let server: Server | undefined
  app.hooks({
    setup: [
      async (context: { server?: unknown }, next: () => Promise<void>) => {
        if (context.server instanceof Server) {
          server = context.server
          answerExpectContinue(server, requestBodyLimit)
        }
        await checkDatabase(db, env.databaseUrl)
        await migrate(db, schema, [...busMigrations, ...jobMigrations, ...options.migrations])
        await bus.start()
        for (const step of startSteps(app)) await step(app)
        // every consumer is declared by now
        metrics.watch()
        outcomes.watch(bus.consumers)
        await outbox.start()
        if (jobs.hasWork) await jobs.start()
        await bus.startConsumers()
        janitor.start()
        await next()
        app.set('ready', true)
        logger.info({ schema, namespace: env.namespace }, `${options.service} ready`)
      }
    ],
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        app.set('ready', false)
        // Stop accepting connections first: a client reconnecting while the rest shuts down (an SSE
        // stream, say) would otherwise hold server.close() open for ever.
        const listening = server
        server = undefined
        const closed = listening ? new Promise<void>((resolve) => listening.close(() => resolve())) : Promise.resolve()
        listening?.closeIdleConnections()
        await next()
        janitor.stop()
        metrics.stop()
        await Promise.all(bus.consumers.map((c) => c.stop()))
        await outcomes.stop()
        // its last batches' outbox rows are relayed by the relay, stopped next
        await jobs.stop()
        await outbox.stop()
        await bus.stop()
        await db.destroy()
        await flushTracing()
        listening?.closeAllConnections()
        await closed
      }
    ]
  })
  return app
}

/** Registers work to run at start, after migrations and the broker connection, before consuming (e.g. seeding). */
export function onStart(app: ServiceApp, step: StartStep): void {
  startSteps(app).push(step)
}

function startSteps(app: ServiceApp): StartStep[] {
  let steps = app.get('startSteps')
  if (!steps) {
    steps = []
    app.set('startSteps', steps)
  }
  return steps
}

/** 1 MB, but 20 MB for a bulk import's CSV (limits.ts). */
const requestBodyLimit = (req: IncomingMessage) => bodyLimitFor(req.method, req.url)

function validateConfig(service: string, config?: ServiceAppOptions['config']): Record<string, unknown> {
  if (!config) return {}
  const ajv = addFormats(new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true }), ['uri', 'email'])
  const values = { ...config.values }
  for (const key of Object.keys(values)) if (values[key] === undefined) delete values[key]
  const validate = ajv.compile(config.schema)
  if (!validate(values)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')
    throw new Error(`invalid configuration for ${service}: ${problems}`)
  }
  return values
}
