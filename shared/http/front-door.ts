import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { FeathersError, FeathersErrorJSON } from '@feathersjs/errors'

/**
 * What every HTTP answer of Bazaar has in common, whoever writes it (Koa, the
 * gateway's reverse proxy, its SSE endpoint, its CORS preflights): the
 * request-id rule and the Feathers error body.
 */

/** An X-Request-Id a client may choose: short, and only characters safe in logs and headers. */
const acceptableRequestId = /^[\w.:@\-]{1,128}$/

/** The client's `X-Request-Id` when it is acceptable, otherwise a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id']
  return typeof given === 'string' && acceptableRequestId.test(given) ? given : randomUUID()
}

/** Takes the request's id (see requestIdOf), echoes it on the response and returns it. */
export function assignRequestId(headers: IncomingHttpHeaders, res: Pick<ServerResponse, 'setHeader'>): string {
  const id = requestIdOf(headers)
  res.setHeader('X-Request-Id', id)
  return id
}

/** The body of an error answer: Feathers' JSON shape (name, message, code, className, data). */
export function errorBody(error: FeathersError): FeathersErrorJSON {
  return error.toJSON()
}

/**
 * Answers `error` on a response no framework writes (the proxy, the SSE
 * endpoint). Headers already sent mean an answer has begun: the only honest
 * end is to cut the connection.
 */
export function sendError(res: ServerResponse, error: FeathersError): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify(errorBody(error))
  res.writeHead(error.code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
