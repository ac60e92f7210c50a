import { BadRequest } from '@feathersjs/errors'
import { findUnstorableText, type TextProblem } from '../text/storable.ts'
import type { HookContext } from './declarations.ts'

/**
 * App-level around hook, first on every method of every service: text that
 * PostgreSQL cannot store is a 400 naming the field, whatever resource it
 * was sent to and whether it came in the body, the query string or the id,
 * before any hook or query can trip over it.
 */
export function storableText() {
  return async (context: HookContext, next: () => Promise<void>) => {
    const problems = [
      ...findUnstorableText(context.data, 'data'),
      ...findUnstorableText(context.params.query, 'query'),
      ...(typeof context.id === 'string' ? findUnstorableText(context.id, 'id') : [])
    ]
    if (problems.length) {
      const fields = problems.map((p) => p.instancePath.slice(1) || p.params.in)
      throw new BadRequest(`Text that cannot be stored: ${[...new Set(fields)].join(', ')}`, problems)
    }
    await next()
  }
}
