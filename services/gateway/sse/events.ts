import { MethodNotAllowed, NotAuthenticated, Unavailable } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import { createSession } from 'better-sse'
import { bearerToken } from '../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import type { GatewayConfig } from '../config.ts'
import { audiencesOf } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import type { StreamHub, StreamState } from '../live/hub.ts'
import { identify } from './credentials.ts'

/** A Last-Event-ID we can use: a positive integer; anything else is ignored, not an error. */
export function parseLastEventId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) return undefined
  const id = Number(value.trim())
  return id > 0 ? id : undefined
}

const firstString = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined)

/**
 * `GET /events`: one SSE stream per client (better-sse). Credentials first
 * (401 and no stream without them); then the stream is registered for live
 * events *before* its history is read, and both are merged by id, so nothing
 * published in between is lost or sent twice.
 */
export function eventsRoute(app: ServiceApp, hub: StreamHub, store: EventStore, config: GatewayConfig): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/events') return next()
    if (ctx.method !== 'GET') throw new MethodNotAllowed('GET /events only')
    if ((app.get('ready' as never) as unknown) !== true) throw new Unavailable('gateway is starting')
    const token = bearerToken(ctx.get('authorization')) ?? firstString(ctx.query.token)
    const who = await identify(token, { db: app.get('db'), schema: app.get('schema'), jwtSecret: app.get('env').jwtSecret })
    if (!who) throw new NotAuthenticated(token ? 'Invalid, expired or revoked token' : 'Not authenticated')

    let since = parseLastEventId(ctx.get('last-event-id') || firstString(ctx.query.lastEventId))
    // An id from the future (another database, a made-up value) says nothing about what was seen.
    if (since !== undefined && since > (await store.maxId())) since = undefined

    ctx.respond = false
    const state: StreamState = { principal: who.principal, audiences: audiencesOf(who.principal), lastSent: 0, res: ctx.res }
    const session = await createSession<StreamState>(ctx.req, ctx.res, {
      state,
      statusCode: 200,
      trustClientEventId: false,
      keepAlive: config.keepAliveMs,
      retry: config.retryMs + Math.floor(Math.random() * config.retryJitterMs)
    })
    hub.add(session)
    session.once('disconnected', () => hub.remove(session))
    try {
      const history = await store.catchUp(who.principal, since, who.appliance)
      hub.goLive(session, history, since)
    } catch (err) {
      app.get('logger').warn({ err: (err as Error).message }, 'could not read history for a stream; closing it so the client retries')
      hub.remove(session)
      ctx.res.destroy()
    }
  }
}
