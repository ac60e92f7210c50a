import { BadRequest, Conflict, FeathersError, GeneralError, NotFound, Unavailable } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import type { HookContext } from './declarations.ts'
import type { Logger } from '../log/logger.ts'
import { errorForStatus } from './http-errors.ts'
import { closeIfBodyHalfRead } from './body-limit.ts'
import { errorBody } from '../http/front-door.ts'
import { JobError } from '../jobs/errors.ts'

/** Where @feathersjs/knex keeps the database's own error when it converts one. */
const KNEX_ORIGINAL = Symbol.for('@feathersjs/knex/error')

interface PgError {
  code?: string
  constraint?: string
  column?: string
  severity?: string
}

/**
 * Turns what is really bad input, however deep it was noticed, into a 4xx:
 * PostgreSQL's invalid-text, out-of-range and constraint errors included. The
 * database's message (which can quote SQL) never reaches the client: only the
 * constraint or column it names.
 */
export function toClientError(err: unknown): unknown {
  // @feathersjs/knex has already converted it (a unique violation becomes a 400 carrying SQL): judge the original.
  const original = (err as Record<symbol, unknown> | undefined)?.[KNEX_ORIGINAL] as PgError | undefined
  if (err instanceof FeathersError && !original) return err
  if (err instanceof JobError) return jobClientError(err)
  const pg = original ?? (err as PgError)
  const where = { ...(pg?.constraint ? { constraint: pg.constraint } : {}), ...(pg?.column ? { column: pg.column } : {}) }
  switch (pg?.code) {
    case '22P02': // invalid text representation (e.g. not a uuid)
    case '22003': // numeric value out of range
    case '22001': // string too long
    case '22007': // invalid datetime
    case '22008':
    case '23502': // not null violation
    case '23514': // check violation
    case '22021': // character not in repertoire (a NUL byte in text: storableText() normally catches it first)
    case '22P05': // untranslatable character
    case '54000': // program limit exceeded (e.g. a value too large for its index)
      return new BadRequest('Invalid input', where)
    case '23505':
      return new Conflict('Already exists', where)
    case '23503':
      return new NotFound('A referenced record does not exist', where)
  }
  if (databaseUnreachable(pg, err)) return new Unavailable('The database is not reachable right now; try again')
  // A deadlock or serialization failure rolled the whole transaction back, nothing of it committed: the same
  // request may be sent again, as PostgreSQL's documentation asks of applications
  if (pg?.code === '40P01' || pg?.code === '40001') return new Unavailable('A concurrent change got in the way; try again')
  if (original && typeof pg?.severity === 'string') {
    // Any other database error is ours, not the client's: a 500 without the SQL in it.
    return new GeneralError('Internal error')
  }
  return err
}

/** A job or schedule a request asked for that cannot be: its reason is the caller's to read. */
function jobClientError(err: JobError): unknown {
  switch (err.code) {
    case 'INVALID_SCHEDULE':
    case 'CONTRACT_VIOLATION':
      return new BadRequest(err.message, { code: err.code })
    case 'DUPLICATE_KEY':
      return new Conflict(err.message, { code: err.code })
  }
  return err
}

/**
 * The database went away under the request (restart, failover, network): a
 * 503 the client may retry, not a 500 that says our code is broken.
 */
function databaseUnreachable(pg: PgError | undefined, err: unknown): boolean {
  const code = pg?.code ?? (err as { code?: string })?.code
  if (code && (/^(08|57P0)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code))) return true
  return /Connection terminated|Client has encountered a connection error|Knex: Timeout acquiring a connection/i.test((err as Error)?.message ?? '')
}

/** App error hook: maps errors, and logs the ones that are really ours (5xx). */
export function mapErrors(logger: Logger) {
  return async (context: HookContext) => {
    context.error = toClientError(context.error)
    const code = (context.error as FeathersError)?.code ?? 500
    // 5xx are logged once, by errorBodies, where the HTTP status is decided
    if (code < 500) logger.debug({ path: context.path, method: context.method, code }, 'request refused')
  }
}

/**
 * What a client is told about an error that reached the edge of a request:
 * its Feathers error (bad input found deep down is a 4xx, see toClientError),
 * a status some reader raised named for that status (413 PayloadTooLarge, 415
 * UnsupportedMediaType, ...), or a 500 without details, logged here once.
 */
export function publicError(raw: unknown, logger: Logger, path: string): FeathersError {
  const error = toClientError(raw)
  if (error instanceof FeathersError) return error
  const status = (raw as { status?: number; statusCode?: number } | undefined)?.status ?? (raw as { statusCode?: number } | undefined)?.statusCode
  if (status && status >= 400 && status < 500) return errorForStatus(status, (raw as Error).message || 'Bad request')
  logger.error({ err: raw, path }, 'unhandled error')
  return new GeneralError('Internal error')
}

/**
 * Koa-level error handler: every error leaves as a Feathers error body, 4xx
 * for bad input (malformed JSON, oversized body) and never a stack trace.
 */
export function errorBodies(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next()
      if (ctx.body === undefined && ctx.status === 404) {
        ctx.status = 404
        ctx.body = errorBody(new NotFound(`Page not found: ${ctx.path}`))
      }
    } catch (raw) {
      const error = publicError(raw, logger, ctx.path)
      closeIfBodyHalfRead(ctx.req, ctx.res)
      ctx.status = error.code
      ctx.body = errorBody(error)
    }
  }
}
