import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadGateway, Unavailable, type FeathersError } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import { createProxyServer } from 'http-proxy-3'
import { serviceTable, serviceUrl } from '../../shared/services.ts'
import type { Logger } from '../../shared/log/logger.ts'

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
 * the X-Request-Id this gateway assigned, and answers a Feathers error body
 * when the service is down (502) or too slow (503), instead of hanging.
 */
export function proxyRoutes(options: { routes: Map<string, string>; timeoutMs: () => number; logger?: () => Logger }): Middleware {
  const proxy = createProxyServer({ xfwd: true })
  // Errors also reach the per-request callback; this listener only keeps the emitter from throwing.
  proxy.on('error', () => {})
  return async (ctx, next) => {
    const segment = ctx.path.split('/')[1] ?? ''
    const target = options.routes.get(segment)
    if (!target) return next()
    const requestId = String(ctx.response.get('X-Request-Id') || '')
    if (requestId) ctx.req.headers['x-request-id'] = requestId
    ctx.respond = false
    const { req, res } = ctx
    const started = Date.now()
    const timeoutMs = options.timeoutMs()
    await new Promise<void>((resolve) => {
      res.once('close', () => resolve())
      proxy.web(req, res, { target, proxyTimeout: timeoutMs }, (err: Error & { code?: string }) => {
        options.logger?.().warn({ err: err.message, code: err.code, target, path: ctx.path }, 'proxied request failed')
        // http-proxy-3 ends a request past proxyTimeout by destroying it: a hang-up that late is the timeout
        const timedOut = Date.now() - started >= timeoutMs
        const error: FeathersError = timedOut
          ? new Unavailable(`The ${segment} service did not answer in time`, { service: segment })
          : new BadGateway(`The ${segment} service is unavailable`, { service: segment })
        sendError(req, res, error, requestId)
        resolve()
      })
    })
  }
}

function sendError(_req: IncomingMessage, res: ServerResponse, error: FeathersError, requestId: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify(error.toJSON())
  res.writeHead(error.code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId })
  res.end(body)
}
