import type { Middleware } from '@feathersjs/koa'
import { MethodNotAllowed } from '@feathersjs/errors'
import type { Registry } from 'prom-client'

/**
 * `GET /metrics` in Prometheus text format. Koa middleware, not a Feathers service: the answer is
 * text, not JSON, and no authentication or service hook applies. It needs no token because it is
 * meant for the internal port; the public edge does not route it (deploy/caddy/Caddyfile). It is
 * registered before the gateway's proxy, so the gateway answers with its own metrics.
 */
export function metricsRoute(registry: Registry): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') return next()
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD')
      throw new MethodNotAllowed(`${ctx.method} is not allowed on /metrics`)
    }
    ctx.set('Cache-Control', 'no-store')
    ctx.type = registry.contentType
    ctx.body = await registry.metrics()
  }
}
