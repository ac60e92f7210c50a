import type { Middleware } from '@feathersjs/koa'
import { MethodNotAllowed } from '@feathersjs/errors'
import { errorForStatus } from '../../../shared/feathers/http-errors.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { OpsError } from '../../../shared/ops/errors.ts'
import { defaultManagementUrl } from '../../../shared/ops/management.ts'
import { serviceTable } from '../../../shared/services.ts'
import { requireAdmin, type AdminCheck } from './auth.ts'
import { OpsConsole } from './console.ts'
import { limitOf, purgeOf, queueOf, replayOf } from './input.ts'
import { opsPage } from './page.ts'
import { OpsStream } from './stream.ts'

export interface OpsOptions {
  /** whether a user's sessions ended after a token was signed (the gateway's SessionRevocations) */
  revoked: () => AdminCheck['revoked']
  /** the process environment: RABBITMQ_MANAGEMENT_URL, OPS_REFRESH_MS */
  vars?: NodeJS.ProcessEnv
}

/**
 * The operations console on the public origin: `GET /ops` is the page (it holds no data and asks
 * for a token); everything under `/ops/api/` is for admins only (auth.ts):
 *
 * - `GET  /ops/api/state`: queues, outbox backlogs, jobs, schedules, parked keys, imports
 * - `GET  /ops/api/stream?token=`: the same as SSE `state` events, sent when it changes
 * - `GET  /ops/api/dead-letters?queue=&limit=`: a dead-letter queue's messages, read and put back
 * - `POST /ops/api/replay {queue, all | ids, routingKey, error}`: `bazaar dlq replay`
 * - `POST /ops/api/purge {queue, confirm}`: `bazaar dlq purge`, confirm naming the queue
 */
export function opsConsole(app: ServiceApp, options: OpsOptions): Middleware {
  const vars = options.vars ?? process.env
  const env = app.get('env')
  const console = new OpsConsole({
    bus: app.get('bus'),
    db: app.get('db'),
    namespace: env.namespace,
    managementUrl: vars.RABBITMQ_MANAGEMENT_URL || defaultManagementUrl(env.amqpUrl),
    services: serviceTable.map((s) => s.name)
  })
  const stream = new OpsStream(console, { intervalMs: Number(vars.OPS_REFRESH_MS) || 2_000, logger: app.get('logger') })
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        stream.endAll()
        await console.idle() // a refresh or replay under way finishes on an open pool and channel
        await next()
      }
    ]
  })
  const check = (): AdminCheck => ({ jwtSecret: env.jwtSecret, revoked: options.revoked() })
  const page = opsPage()

  return async (ctx, next) => {
    if (ctx.path === '/ops') return page(ctx)
    if (!ctx.path.startsWith('/ops/api/')) return next()
    ctx.set('Cache-Control', 'no-store')
    const route = `${ctx.method} ${ctx.path}`
    const known = ['/ops/api/state', '/ops/api/stream', '/ops/api/dead-letters', '/ops/api/replay', '/ops/api/purge']
    if (!known.includes(ctx.path)) return next()
    const queryToken = ctx.path === '/ops/api/stream' && typeof ctx.query.token === 'string' ? ctx.query.token : undefined
    requireAdmin(ctx.get('authorization') || undefined, queryToken, check())
    try {
      switch (route) {
        case 'GET /ops/api/state':
          ctx.body = await console.snapshot()
          return
        case 'GET /ops/api/stream':
          // better-sse writes the response itself; the status is set so that no later middleware
          // (the 404 body of errorBodies) sets res.statusCode before better-sse sends its head
          ctx.status = 200
          ctx.respond = false
          await stream.open(ctx.req, ctx.res)
          return
        case 'GET /ops/api/dead-letters':
          ctx.body = await console.deadLetters(queueOf(ctx.query.queue), limitOf(ctx.query.limit))
          return
        case 'POST /ops/api/replay': {
          const { queue, selection } = replayOf(ctx.request.body)
          ctx.body = await console.replay(queue, selection)
          void stream.afterAction()
          return
        }
        case 'POST /ops/api/purge': {
          const { queue, confirm } = purgeOf(ctx.request.body)
          ctx.body = await console.purge(queue, confirm)
          void stream.afterAction()
          return
        }
        default:
          throw new MethodNotAllowed(`${ctx.method} is not allowed on ${ctx.path}`)
      }
    } catch (err) {
      // An operator's mistake or an unreachable management API: its one line and status, not a 500.
      if (err instanceof OpsError) throw errorForStatus(err.status, err.message)
      throw err
    }
  }
}
