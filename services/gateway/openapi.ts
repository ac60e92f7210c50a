import { readFile } from 'node:fs/promises'
import { MethodNotAllowed, NotFound } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'

/** Where `npm run docs` (scripts/docs.ts) writes the document; test/docs.test.ts keeps it in step with the schemas. */
export const openapiFile = new URL('../../docs/openapi.json', import.meta.url)

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the REST API. It is
 * generated from every service's TypeBox schemas by scripts/docs.ts and
 * committed, rather than built here, because the gateway does not import
 * other services (conventions.md); it is read once, on the first request.
 */
export function openapiRoute(file: URL = openapiFile): Middleware {
  let document: Promise<string> | undefined
  return async (ctx, next) => {
    if (ctx.path !== '/openapi.json') return next()
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new MethodNotAllowed('GET /openapi.json only')
    document ??= readFile(file, 'utf8')
    const text = await document.catch(() => {
      document = undefined // a later `npm run docs` may create it
      throw new NotFound('The OpenAPI document has not been generated (run `npm run docs`)')
    })
    ctx.set('Cache-Control', 'no-cache')
    ctx.type = 'application/json; charset=utf-8'
    ctx.body = text
  }
}
