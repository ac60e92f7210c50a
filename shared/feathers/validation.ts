import { BadRequest, MethodNotAllowed, NotFound } from '@feathersjs/errors'
import { Ajv, addFormats } from '@feathersjs/schema'
import type { HookContext } from './declarations.ts'

const formats = ['date-time', 'email', 'uuid', 'uri'] as const

/**
 * Validates request bodies: types are never coerced (a price of "10" is a 400,
 * not a 10), every failing field is reported.
 */
export const dataValidator: Ajv = addFormats(new Ajv({ allErrors: true }), [...formats])

/** Validates query strings, whose values arrive as strings: those are coerced to the schema's types. */
export const queryValidator: Ajv = addFormats(new Ajv({ allErrors: true, coerceTypes: true }), [...formats])

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const isUuid = (value: unknown): value is string => typeof value === 'string' && uuid.test(value)

/**
 * Before hook for methods addressed by id: an id that is not a UUID names no
 * record (404, before any query); a method called without an id on a resource
 * that has no multi-record writes is 405.
 */
export function uuidId() {
  return async (context: HookContext) => {
    if (context.id === null || context.id === undefined) {
      if (context.method === 'get') return
      throw new MethodNotAllowed(`${context.method} needs an id: ${context.path}/:id`)
    }
    if (!isUuid(context.id)) throw new NotFound(`No record found for id '${String(context.id)}'`)
  }
}

/** Before hook: the body must be one JSON object (no arrays, no scalars). */
export function singleRecord() {
  return async (context: HookContext) => {
    const data = context.data
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new BadRequest('The body must be one JSON object', { body: Array.isArray(data) ? 'array' : typeof data })
    }
  }
}
