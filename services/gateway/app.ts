import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp, onStart } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'
import { routeRequests } from '../../shared/http/route.ts'
import { gatewayConfigSchema, gatewayConfigValues, type GatewayConfig } from './config.ts'
import { corsFirst, corsPolicy } from './cors.ts'
import type { GatewayParts } from './declarations.ts'
import { historyConsumer } from './consumers/history.ts'
import { sessionsConsumer } from './consumers/sessions.ts'
import { EventStore } from './history/store.ts'
import { StreamHub } from './live/hub.ts'
import { LiveFeed } from './live/feed.ts'
import { StreamQuota } from './live/quota.ts'
import { RevocationListener } from './live/revocations.ts'
import { SessionRevocations } from './live/sessions.ts'
import { migrations } from './migrations/index.ts'
import { openapiRoute } from './openapi.ts'
import { opsConsole } from './ops/index.ts'
import { proxyRoutes, routes } from './proxy.ts'
import { appliances } from './resources/appliances/appliances.ts'
import { maintenanceNotices } from './resources/maintenance-notices/maintenance-notices.ts'
import { receipts } from './resources/receipts/receipts.ts'
import { refuseEndedSessions } from './sessions.ts'
import { eventsHandler, isEventsRequest } from './sse/events.ts'
import { warehousePage } from './warehouse/page.ts'

export type { GatewayParts } from './declarations.ts'

export function gatewayParts(app: ServiceApp): GatewayParts {
  const parts = app.get('gateway')
  if (!parts) throw new Error('not a gateway app')
  return parts
}

/**
 * The public origin: proxies the REST paths other services own, serves
 * `/appliances`, `/maintenance-notices`, `/receipts`, the SSE stream
 * `/events` and the `/warehouse` page. `vars` is the process environment its
 * settings and the services' internal URLs are read from.
 */
export function createApp(env?: BazaarEnv, vars: NodeJS.ProcessEnv = process.env): ServiceApp {
  let config: GatewayConfig
  let sessions: SessionRevocations
  const app: ServiceApp = createServiceApp({
    service: 'gateway',
    migrations,
    env,
    config: { schema: gatewayConfigSchema, values: gatewayConfigValues(vars) },
    beforeBody: [
      refuseEndedSessions({ sessions: () => sessions, jwtSecret: () => app.get('env').jwtSecret }),
      proxyRoutes({ routes: routes(vars), timeoutMs: () => config.proxyTimeoutMs, logger: () => app.get('logger') })
    ]
  })
  config = serviceConfig(app, 'gateway')
  const cors = corsPolicy(config.corsOrigins) // a malformed CORS_ORIGINS fails here, at start
  const logger = app.get('logger')
  const store = new EventStore(app.get('db'), app.get('schema'), config.retentionHours * 3_600_000)
  const hub: StreamHub = new StreamHub({
    maxBufferBytes: config.maxClientBufferBytes,
    keepAliveMs: config.keepAliveMs,
    logger,
    // a revocation notice this instance missed still ends the stream, at its next keep-alive
    revoked: (state) => state.principal.kind === 'user' && sessions.isRevoked(state.principal.userId, state.sessionVersion ?? 0),
    pushed: app.get('metrics').streams(() => hub)
  })
  const feed = new LiveFeed(app.get('bus'), store, hub, {
    catchUpIntervalMs: config.catchUpIntervalMs,
    logger
  })
  const revocations = new RevocationListener({
    databaseUrl: app.get('env').databaseUrl,
    db: app.get('db'),
    schema: app.get('schema'),
    hub,
    logger
  })
  sessions = new SessionRevocations({ databaseUrl: app.get('env').databaseUrl, db: app.get('db'), schema: app.get('schema'), hub, logger })
  app.set('gateway', { config, store, hub, feed })

  // Sockets that go away mid-stream are normal for SSE: a debug line, not Koa's stack trace on stderr.
  app.on('error', (err: Error) => logger.debug({ err: err.message }, 'connection error'))
  const events = eventsHandler(app, { hub, store, config, sessions, quota: new StreamQuota(config.maxStreamsPerPrincipal) })
  app.use(warehousePage())
  app.use(opsConsole(app, { vars, revoked: () => (userId, version) => sessions.isRevoked(userId, version) }))
  app.use(openapiRoute())
  // `/events` is answered beside Koa, not through it: an open stream holds no Koa objects. CORS is
  // outermost: the stream, Koa's and proxied answers and the preflights all get its headers.
  app.set('requestListener', (koa) => corsFirst(cors, routeRequests([{ matches: isEventsRequest, listener: events }], koa)))
  app.configure(appliances(hub))
  app.configure(maintenanceNotices(store))
  app.configure(receipts(store))
  app.configure(historyConsumer(store))
  app.configure(sessionsConsumer)

  let sweeper: NodeJS.Timeout | undefined
  onStart(app, async () => {
    await feed.start()
    await revocations.start()
    await sessions.start()
    sweeper = setInterval(() => void store.sweep().catch((err: Error) => logger.warn({ err: err.message }, 'history sweep failed')), 600_000)
    sweeper.unref()
  })
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        clearInterval(sweeper)
        hub.endAll()
        await feed.stop()
        await revocations.stop()
        await sessions.stop()
        await next()
      }
    ]
  })
  return app
}
