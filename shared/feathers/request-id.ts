import type { Middleware } from '@feathersjs/koa'
import { assignRequestId } from '../http/front-door.ts'
import { runWithContext } from '../log/context.ts'

/**
 * Takes the client's X-Request-Id (or makes one: the rule of
 * shared/http/front-door.ts), returns it on the response and runs the request
 * inside a work context carrying it, so log lines and outbox events get it
 * without being handed it.
 */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const id = assignRequestId(ctx.req.headers, ctx.res)
    ctx.feathers = { ...ctx.feathers, requestId: id }
    await runWithContext({ requestId: id, correlationId: id }, next)
  }
}
