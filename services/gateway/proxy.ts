import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { BadGateway, BadRequest, Unavailable, type FeathersError } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import { createProxyServer } from 'http-proxy-3'
import getRawBody from 'raw-body'
import { PayloadTooLarge } from '../../shared/feathers/http-errors.ts'
import { sendError } from '../../shared/http/front-door.ts'
import { MAX_BODY_BYTES, bodyLimitFor } from '../../shared/feathers/limits.ts'
import { serviceTable, serviceUrl } from '../../shared/services.ts'
import type { Logger } from '../../shared/log/logger.ts'
import { keepGatewayCors } from './cors.ts'
import { currentContext } from '../../shared/log/context.ts'

/** First path segment to the internal URL of the service that owns it (every service but the gateway). */
export function routes(vars: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const table = new Map<string, string>()
  for (const entry of serviceTable) {
    if (entry.name === 'gateway') continue
    const url = serviceUrl(entry.name, vars)
    for (const path of entry.paths) table.set(path, url)
  }
  return table
}

/**
 * Reverse proxy for the REST paths other services own (http-proxy-3). It runs
 * before the body parser so request bodies stream through untouched, passes
 * the X-Request-Id this gateway assigned and its `traceparent`, and answers a Feathers error body
 * when the service is down (502) or too slow (503), instead of hanging.
 */
export function proxyRoutes(options: { routes: Map<string, string>; timeoutMs: () => number; logger?: () => Logger; bodyLimit?: number }): Middleware {
  const proxy = createProxyServer({ xfwd: true })
  // Errors also reach the per-request callback; this listener only keeps the emitter from throwing.
  proxy.on('error', () => {})
  // The gateway's CORS policy is the only one: an upstream's Access-Control-* headers never reach the client.
  proxy.on('proxyRes', keepGatewayCors)
  return async (ctx, next) => {
    const segment = ctx.path.split('/')[1] ?? ''
    const target = options.routes.get(segment)
    if (!target) return next()
    const requestId = String(ctx.response.get('X-Request-Id') || '')
    if (requestId) ctx.req.headers['x-request-id'] = requestId
    // the request's trace as this gateway holds it (its span, or the trace it made): the service's span is its child
    const { traceparent } = currentContext()
    if (traceparent) ctx.req.headers.traceparent = traceparent
    // A body of unknown length is read here, up to the limit every service applies, so that one too large
    // is this gateway's 413 rather than a connection the service cuts mid-upload (a 502 to the client).
    const buffer = await bufferUnknownLength(ctx.req, options.bodyLimit ?? bodyLimitFor(ctx.req.method, ctx.req.url))
    // This server has already answered `Expect: 100-continue` (see answerExpectContinue); the service must not
    // be asked again for a body that is on its way.
    delete ctx.req.headers.expect
    ctx.respond = false
    const { req, res } = ctx
    const started = Date.now()
    const timeoutMs = options.timeoutMs()
    await new Promise<void>((resolve) => {
      res.once('close', () => resolve())
      proxy.web(req, res, { target, proxyTimeout: timeoutMs, ...(buffer ? { buffer } : {}) }, (err: Error & { code?: string }) => {
        options.logger?.().warn({ err: err.message, code: err.code, target, path: ctx.path }, 'proxied request failed')
        // http-proxy-3 ends a request past proxyTimeout by destroying it: a hang-up that late is the timeout
        const timedOut = Date.now() - started >= timeoutMs
        const error: FeathersError = timedOut
          ? new Unavailable(`The ${segment} service did not answer in time`, { service: segment })
          : new BadGateway(`The ${segment} service is unavailable`, { service: segment })
        sendError(res, error) // the X-Request-Id is on the response already (requestId())
        resolve()
      })
    })
  }
}

/**
 * A chunked body (no Content-Length) read in full, at most `limit` bytes (413
 * beyond), and handed back as a stream of known length to forward; undefined
 * for a request with a Content-Length (streamed through untouched: Node holds
 * it to that length, refuseOversizedBodies() has checked it) or without a body.
 */
async function bufferUnknownLength(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Readable | undefined> {
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] === undefined) return undefined
  let body: Buffer
  try {
    body = await getRawBody(req, { limit })
  } catch (err) {
    const status = (err as { status?: number }).status
    if (status === 413) throw new PayloadTooLarge(`The request body is larger than ${limit} bytes`, { limit })
    throw new BadRequest('The request body could not be read', { reason: (err as { type?: string }).type ?? (err as Error).message })
  }
  delete req.headers['transfer-encoding']
  req.headers['content-length'] = String(body.length)
  return Readable.from([body])
}
