import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Middleware } from '@feathersjs/koa'
import { declaredTooLarge } from './body.ts'

/** A limit that depends on the request (bulk imports may be larger than any other body). */
export type BodyLimit = (req: IncomingMessage) => number

/**
 * Koa middleware, before anything reads or forwards the body: a request whose
 * Content-Length is over the limit is a 413 at once, without reading a byte
 * (Node discards the unread body so the client can read the answer).
 */
export function refuseOversizedBodies(limit: number | BodyLimit): Middleware {
  const limitOf = typeof limit === 'number' ? () => limit : limit
  return async (ctx, next) => {
    const tooLarge = declaredTooLarge(ctx.req, limitOf(ctx.req))
    if (tooLarge) throw tooLarge
    await next()
  }
}

/**
 * `Expect: 100-continue` answered properly: Node would send 100 Continue to
 * every such request by itself, asking the client for a body we then refuse.
 * Here 100 is sent only when the declared size is acceptable; otherwise the
 * request goes to Koa unanswered, where refuseOversizedBodies() answers 413
 * (with request id and Feathers error body) and the client never sends it.
 */
export function answerExpectContinue(server: Server, limit: number | BodyLimit): void {
  if (server.listenerCount('checkContinue') > 0) return
  const limitOf = typeof limit === 'number' ? () => limit : limit
  server.on('checkContinue', (req, res) => {
    if (!declaredTooLarge(req, limitOf(req))) res.writeContinue()
    server.emit('request', req, res)
  })
}

/**
 * Called when an error answers a request: if its body was left half read (a
 * reader stopped at the limit, or a refused `Expect: 100-continue` whose body
 * will never come), the connection can no longer tell where the next request
 * starts, so it is closed after this answer rather than reused by a client's
 * keep-alive pool. A body never touched is left to Node, which discards it
 * and keeps the connection (closing it under a client still sending would
 * reset it before the client reads our answer).
 */
export function closeIfBodyHalfRead(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || res.headersSent) return
  const refusedContinue = /100-continue/i.test(String(req.headers.expect ?? ''))
  if (req.readableDidRead || refusedContinue) res.setHeader('Connection', 'close')
}
