import type { IncomingMessage } from 'node:http'
import type { Readable, Transform } from 'node:stream'
import { createBrotliDecompress, createUnzip } from 'node:zlib'
import { parse as parseSafely } from '@hapi/bourne'
import { BadRequest, FeathersError } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import getRawBody from 'raw-body'
import { errorForStatus, PayloadTooLarge, UnsupportedMediaType } from './http-errors.ts'

/** Methods whose body Feathers reads (as koa-body does by default). */
const withBody = new Set(['POST', 'PUT', 'PATCH'])

/**
 * The content codings a body may arrive in. gzip and deflate share zlib's
 * auto-detecting decoder (deflate is sent zlib-wrapped, sometimes as gzip).
 */
const decoders: Record<string, () => Transform> = {
  gzip: createUnzip,
  'x-gzip': createUnzip,
  deflate: createUnzip,
  br: createBrotliDecompress
}

/** The request's content coding, lower-cased; `identity` when none. 415 for one this server cannot decode. */
export function contentCoding(req: IncomingMessage): string {
  const coding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase() || 'identity'
  if (coding !== 'identity' && !decoders[coding]) {
    throw new UnsupportedMediaType(`Content-Encoding '${coding}' is not supported (use gzip, deflate or br)`, { encoding: coding, supported: ['identity', ...Object.keys(decoders)] })
  }
  return coding
}

/** 413 when the declared Content-Length is over the limit: refused before a byte is read. */
export function declaredTooLarge(req: IncomingMessage, limit: number): PayloadTooLarge | undefined {
  const length = Number(req.headers['content-length'])
  return Number.isFinite(length) && length > limit ? new PayloadTooLarge(`The request body is larger than ${limit} bytes`, { limit }) : undefined
}

/**
 * The body's bytes, decoded from its content coding, at most `limit` bytes
 * (after decoding: a small gzip bomb is as refused as a large body). A
 * coding that does not decode, a body shorter than its Content-Length or a
 * client that goes away is a 400, too many bytes a 413.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const coding = contentCoding(req)
  const tooLarge = declaredTooLarge(req, limit)
  if (tooLarge) throw tooLarge
  const decoder = coding === 'identity' ? undefined : decoders[coding]!()
  const stream: Readable = decoder ? req.pipe(decoder) : req
  // zlib reports a body that is not what its coding claims as an error on its stream
  if (decoder) req.once('error', (err) => decoder.destroy(err))
  try {
    return await getRawBody(stream, { limit, length: coding === 'identity' ? req.headers['content-length'] : undefined })
  } catch (err) {
    if (err instanceof FeathersError) throw err
    const raw = err as Error & { status?: number; type?: string }
    if (raw.status === 413) throw new PayloadTooLarge(`The request body is larger than ${limit} bytes`, { limit })
    if (raw.type) throw errorForStatus(raw.status && raw.status < 500 ? raw.status : 400, raw.message, { reason: raw.type })
    // not raw-body's own: the decoder refused the bytes
    throw new BadRequest(`The body is not valid ${coding}`, { encoding: coding, reason: raw.message })
  }
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

/** A JSON media type: application/json or any +json. */
const jsonType = /^application\/(?:[\w.+-]+\+)?json$/i

/**
 * Koa middleware that reads JSON request bodies into `ctx.request.body` for
 * Feathers' REST transport, strictly: the bytes must be valid UTF-8 (no
 * silent U+FFFD in stored text), valid JSON (an object or array, no
 * `__proto__` keys), in a content coding we decode, and within the limit.
 * Every refusal is a Feathers error (400, 413 or 415), never a 500. Bodies of
 * other types are not read: Feathers gets no data and refuses the write.
 */
export function jsonBody(limit: number): Middleware {
  return async (ctx, next) => {
    if (withBody.has(ctx.method) && ctx.req.headers['content-type'] !== undefined) {
      const [type, ...parameters] = String(ctx.req.headers['content-type']).split(';').map((part) => part.trim())
      if (jsonType.test(type ?? '')) {
        const charset = parameters.map((p) => p.split('=')).find(([name]) => name?.trim().toLowerCase() === 'charset')?.[1]?.trim().replace(/^"|"$/g, '')
        if (charset && !/^utf-?8$/i.test(charset)) throw new UnsupportedMediaType('JSON bodies must be UTF-8', { charset })
        const bytes = await readBody(ctx.req, limit)
        ;(ctx.request as { body?: unknown }).body = parseJson(bytes)
      }
    }
    await next()
  }
}

/** Strict JSON from bytes: 400 for invalid UTF-8, for anything but an object or array, for prototype keys. */
export function parseJson(bytes: Buffer): unknown {
  let text: string
  try {
    text = fatalUtf8.decode(bytes)
  } catch {
    throw new BadRequest('The body is not valid UTF-8', { body: 'invalid UTF-8' })
  }
  if (!text.trim()) return {}
  if (!/^[\x20\x09\x0a\x0d]*[[{]/.test(text)) throw new BadRequest('The body must be a JSON object', { body: 'not an object' })
  try {
    return parseSafely(text, { protoAction: 'error' })
  } catch (err) {
    throw new BadRequest(`Invalid JSON: ${(err as Error).message}`, { body: 'invalid JSON' })
  }
}
