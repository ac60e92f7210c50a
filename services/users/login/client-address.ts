import type { Middleware } from '@feathersjs/koa'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'

declare module '@feathersjs/feathers' {
  interface Params {
    /** the address the request came from, as the gateway saw it (see trustTheGateway) */
    clientAddress?: string
  }
}

/**
 * Clients reach this service only through the gateway, whose proxy appends the address it was
 * called from to X-Forwarded-For. Koa's `proxy` with `maxIpsCount: 1` makes `ctx.ip` that last hop
 * alone: whatever a client wrote into the header itself comes before it and is ignored.
 */
export function trustTheGateway(app: ServiceApp): void {
  app.proxy = true
  app.maxIpsCount = 1
}

/**
 * Koa middleware of a resource (its `koa.before` option): passes the client's address to the
 * service's hooks as `params.clientAddress`, and turns the `retryAfter` of a 429 into the
 * `Retry-After` header.
 */
export function clientAddress(): Middleware {
  return async (ctx, next) => {
    ctx.feathers = { ...ctx.feathers, clientAddress: ctx.ip }
    try {
      await next()
    } catch (err) {
      const retryAfter = (err as { code?: number; data?: { retryAfter?: unknown } }).data?.retryAfter
      if ((err as { code?: number }).code === 429 && typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter))
      throw err
    }
  }
}
