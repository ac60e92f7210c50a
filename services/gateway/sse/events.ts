import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseQuery } from 'node:querystring'
import { MethodNotAllowed, NotAuthenticated, TooManyRequests, Unavailable } from '@feathersjs/errors'
import { createSession } from 'better-sse'
import { bearerToken } from '../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { publicError } from '../../../shared/feathers/errors.ts'
import { assignRequestId, sendError } from '../../../shared/http/front-door.ts'
import type { RequestListener } from '../../../shared/http/route.ts'
import { runWithContext } from '../../../shared/log/context.ts'
import type { GatewayConfig } from '../config.ts'
import { audiencesOf } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import { serializeEventData, type StreamHub, type StreamState } from '../live/hub.ts'
import type { StreamQuota } from '../live/quota.ts'
import type { SessionRevocations } from '../live/sessions.ts'
import { identify, type Identified } from './credentials.ts'

/** A Last-Event-ID we can use: a positive integer; anything else is ignored, not an error. */
export function parseLastEventId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) return undefined
  const id = Number(value.trim())
  return id > 0 ? id : undefined
}

const firstString = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined)

/** Whether a request is for the stream: exactly `/events`, with or without a query. */
export function isEventsRequest(req: Pick<IncomingMessage, 'url'>): boolean {
  const url = req.url
  if (!url?.startsWith('/events')) return false
  return url.length === 7 || url[7] === '?'
}

/**
 * `GET /events`: one SSE stream per client (better-sse), served on plain
 * node:http so that an open stream holds nothing of Koa or Feathers (no
 * context, request, response or params objects: tens of thousands of streams
 * stay close to bare better-sse in memory). What the Koa stack gives every
 * other path it gets here too: an `X-Request-Id` (the client's, if
 * acceptable, or a new one) on the response and in the work context, and
 * Feathers error bodies (405, 503, 401; a 500 without details).
 *
 * Credentials first (401 and no stream without them or with a token of ended
 * sessions; 429 for a principal with `maxStreamsPerPrincipal` streams open on
 * this instance); then the stream is registered for live events *before* its
 * history is read, and both are merged by id, so nothing published in between
 * is lost or sent twice. A user's stream ends when its token expires (see the
 * hub's keep-alive) or its sessions end.
 */
export function eventsHandler(
  app: ServiceApp,
  { hub, store, config, sessions, quota }: { hub: StreamHub; store: EventStore; config: GatewayConfig; sessions: SessionRevocations; quota: StreamQuota }
): RequestListener {
  const logger = app.get('logger')
  const revoked = (state: Pick<StreamState, 'principal' | 'sessionVersion'>) =>
    state.principal.kind === 'user' && sessions.isRevoked(state.principal.userId, state.sessionVersion ?? 0)

  const stream = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') throw new MethodNotAllowed('GET /events only')
    if (app.get('ready') !== true) throw new Unavailable('gateway is starting')
    const url = req.url ?? '/events'
    const query = url.includes('?') ? parseQuery(url.slice(url.indexOf('?') + 1)) : {}
    const token = bearerToken(req.headers.authorization ?? '') ?? firstString(query.token)
    const who = await identify(token, { db: app.get('db'), schema: app.get('schema'), jwtSecret: app.get('env').jwtSecret })
    if (!who) throw new NotAuthenticated(token ? 'Invalid, expired or revoked token' : 'Not authenticated')
    if (revoked({ principal: who.principal, sessionVersion: who.sessionVersion })) throw new NotAuthenticated('This session has ended; log in again')
    const release = quota.acquire(who.principal)
    if (!release) {
      res.setHeader('Retry-After', String(Math.ceil(config.retryMs / 1000) || 1))
      throw new TooManyRequests(`At most ${config.maxStreamsPerPrincipal} open streams per user or appliance`, { max: config.maxStreamsPerPrincipal })
    }
    try {
      await open(req, res, query, who, release)
    } catch (err) {
      release()
      throw err
    }
  }

  const open = async (
    req: IncomingMessage,
    res: ServerResponse,
    query: ReturnType<typeof parseQuery>,
    who: Identified,
    release: () => void
  ): Promise<void> => {
    // The slot is the response's: given back when it closes, whoever ends it (client, hub, error), even before it became a stream.
    res.once('close', release)
    if (res.closed) release()
    let since = parseLastEventId(firstString(req.headers['last-event-id']) ?? firstString(query.lastEventId))
    // An id from the future (another database, a made-up value) says nothing about what was seen.
    if (since !== undefined && since > (await store.maxId())) since = undefined

    const state: StreamState = {
      principal: who.principal,
      audiences: audiencesOf(who.principal),
      lastSent: 0,
      res,
      expiresAt: who.expiresAt,
      sessionVersion: who.sessionVersion
    }
    const session = await createSession<StreamState>(req, res, {
      state,
      statusCode: 200,
      trustClientEventId: false,
      keepAlive: null, // the hub keeps every stream alive from one timer, spread over the interval
      serializer: serializeEventData, // the hub serialises an event once for all its streams
      retry: config.retryMs + Math.floor(Math.random() * config.retryJitterMs)
    })
    hub.add(session)
    session.once('disconnected', () => hub.remove(session))
    // Its sessions may have ended while the stream was being opened (the hub only ends registered streams).
    if (revoked(state)) {
      hub.remove(session)
      res.end()
      return
    }
    try {
      const history = await store.catchUp(who.principal, since, who.appliance)
      hub.goLive(session, history, since)
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not read history for a stream; closing it so the client retries')
      hub.remove(session)
      res.destroy()
    }
  }

  return (req, res) => {
    const requestId = assignRequestId(req.headers, res)
    void runWithContext({ requestId, correlationId: requestId }, () =>
      stream(req, res).catch((raw: unknown) => sendError(res, publicError(raw, logger, '/events')))
    )
  }
}
