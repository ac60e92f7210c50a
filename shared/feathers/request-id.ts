import { randomUUID } from 'node:crypto'
import type { Middleware } from '@feathersjs/koa'
import { runWithContext } from '../log/context.ts'

const acceptable = /^[\w.:@\-]{1,128}$/

/**
 * Takes the client's X-Request-Id (or makes one), returns it on the response
 * and runs the request inside a work context carrying it, so log lines and
 * outbox events get it without being handed it.
 */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id')
    const id = given && acceptable.test(given) ? given : randomUUID()
    ctx.set('X-Request-Id', id)
    ctx.feathers = { ...ctx.feathers, requestId: id }
    await runWithContext({ requestId: id, correlationId: id }, next)
  }
}
