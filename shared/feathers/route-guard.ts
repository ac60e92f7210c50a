import { NotFound } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'

/**
 * Feathers' router keeps its route tree in plain objects, so a path segment
 * named like an Object.prototype member (`/products/constructor`, `/valueOf`)
 * reaches a function instead of a route node and crashes the lookup (a 500).
 * No resource of ours has such a name: answer 404 before the router sees it.
 */
const prototypeNames = new Set(Object.getOwnPropertyNames(Object.prototype))

export function guardPrototypePaths(): Middleware {
  return async (ctx, next) => {
    const segments = ctx.path.split('/')
    if (segments.some((segment) => prototypeNames.has(segment))) throw new NotFound(`Page not found: ${ctx.path}`)
    await next()
  }
}
