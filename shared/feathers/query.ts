import { BadRequest } from '@feathersjs/errors'
import type { TObject } from '@feathersjs/typebox'
import type { HookContext } from './declarations.ts'

/**
 * The query parameters every resource treats alike, checked once here:
 * `$select`, `$limit` and `$skip`.
 *
 * `$select` names fields of what the caller is shown (the public properties of
 * the resource's result schema), and nothing else: 400 naming the others. It
 * is taken out of the query before any hook or the database sees it and
 * applied to the result last, after authorization and the external resolvers
 * ran on whole records: what a caller may read, and every refusal, never
 * depend on the fields they chose to see.
 *
 * `$limit` and `$skip` are non-negative integers written in digits (400
 * naming the parameter otherwise: negative, fractional, `1e3`, text). A
 * `$limit` above the resource's maximum (`paginate.max`) is that maximum, as
 * Feathers does for in-range numbers; it used to overflow to 1. `$skip`
 * beyond a safe integer is refused: PostgreSQL's OFFSET is a bigint.
 *
 * An around hook: put it after authentication and before (outside) the
 * resource's resolvers, e.g. `around: { all: [authenticateUser(), publicQuery(orderSchema), ...] }`.
 */
export function publicQuery(result: TObject, options: { max?: number } = {}) {
  const fields = new Set(Object.keys(result.properties))
  return async (context: HookContext, next: () => Promise<void>) => {
    const query = context.params.query
    if (!context.params.provider || !query || typeof query !== 'object') return next()
    const selected = takeSelect(query, fields)
    const max = options.max ?? maxOf(context)
    if ('$limit' in query) query.$limit = limitOf(query.$limit, max)
    if ('$skip' in query) query.$skip = integerOf('$skip', query.$skip)
    await next()
    if (!selected) return
    // What the client receives: the external representation when a resolver made one (resolveExternal), else the result.
    if (context.dispatch !== undefined) context.dispatch = pick(context.dispatch, selected)
    else context.result = pick(context.result, selected)
  }
}

/** `$select` as a list of public field names (a single value counts as a list of one), removed from the query. */
function takeSelect(query: Record<string, unknown>, fields: Set<string>): string[] | undefined {
  if (!('$select' in query)) return undefined
  const raw = query.$select
  delete query.$select
  const names = Array.isArray(raw) ? raw : [raw]
  const unknown = names.filter((name) => typeof name !== 'string' || !fields.has(name))
  if (unknown.length || names.length === 0) {
    throw new BadRequest(`$select may name only these fields: ${[...fields].join(', ')}`, {
      $select: unknown.length ? `not selectable: ${unknown.map(String).join(', ')}` : 'empty',
      selectable: [...fields]
    })
  }
  return [...new Set(names as string[])]
}

const digits = /^\d+$/

function integerOf(name: string, value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !digits.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new BadRequest(`${name} must be a non-negative integer`, { [name]: `not a non-negative integer: ${String(value).slice(0, 40)}` })
  }
  return Number(text)
}

function limitOf(value: unknown, max: number | undefined): number {
  // A huge limit written in digits is a well-formed "as many as you give me": the maximum.
  const text = typeof value === 'number' ? String(value) : value
  if (max !== undefined && typeof text === 'string' && digits.test(text) && (text.length > 15 || Number(text) > max)) return max
  const limit = integerOf('$limit', value)
  return max !== undefined ? Math.min(limit, max) : limit
}

/** The resource's page maximum, from its adapter options (public on every Feathers database adapter). */
function maxOf(context: HookContext): number | undefined {
  const paginate = (context.self as { options?: { paginate?: { max?: number } | false } } | undefined)?.options?.paginate
  return paginate ? paginate.max : undefined
}

/** The selected fields of one record, of a page's records, or of each record of a list. */
function pick(result: unknown, fields: string[]): unknown {
  const one = (record: unknown) =>
    record && typeof record === 'object' ? Object.fromEntries(fields.filter((f) => f in record).map((f) => [f, (record as Record<string, unknown>)[f]])) : record
  if (Array.isArray(result)) return result.map(one)
  const page = result as { total?: unknown; data?: unknown } | null
  if (page && typeof page === 'object' && Array.isArray(page.data) && 'total' in page) return { ...page, data: page.data.map(one) }
  return one(result)
}
