import type { Middleware } from '@feathersjs/koa'
import { isUuid } from '../../../shared/feathers/validation.ts'
import { notFound } from '../resources/storefronts/storefronts.class.ts'
import type { PageCache } from './page-cache.ts'

const prefix = '/storefronts/'

/**
 * `GET /storefronts/:sellerId` without a query, answered here from the page
 * cache, before the body parser and Feathers' REST layer: the rendered JSON
 * as it is, with its ETag, and 304 to an `If-None-Match` that names it.
 * That request has nothing for Feathers' per-call work to do (no token, no
 * body, no query to check or `$select` to apply, nothing emitted), and it
 * is the hot path of a read model. Request ids, tracing and error bodies
 * are the middleware before this one, as for every request.
 *
 * Anything else goes on to Feathers untouched: a query (checked and refused
 * or applied there), an id that is no UUID, and a read that failed (Feathers
 * maps the error, 503 for a database away). No storefront is the resource's
 * own NotFound, rendered by the error middleware as Feathers' would be.
 */
export function servePages(cache: () => PageCache | undefined): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.querystring !== '' || !ctx.path.startsWith(prefix)) return next()
    const sellerId = ctx.path.slice(prefix.length)
    const pages = cache()
    if (!isUuid(sellerId) || !pages) return next()
    const page = await pages.page(sellerId).catch(() => null)
    // a read that failed: Feathers reads again and maps the error as for every resource
    if (page === null) return next()
    // no storefront: the resource's own 404, the error body the middleware before renders
    if (page === undefined) throw notFound(sellerId)
    ctx.status = 200
    ctx.type = 'application/json'
    ctx.set('ETag', page.etag)
    // Koa's freshness check (the `fresh` package): If-None-Match against the ETag just set
    if (ctx.fresh) {
      ctx.status = 304
      return
    }
    ctx.body = page.body
  }
}
