import { Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks, type Validator } from '@feathersjs/schema'
import { authenticateUser } from './auth.ts'
import type { HookContext } from './declarations.ts'
import { uuidId } from './validation.ts'

/**
 * Small pieces of a Feathers resource that several services share: who may
 * read a user's records (timestamps: see timestamps.ts).
 */

/**
 * Before hook: an external caller may reach only what belongs to them (the id
 * in the path, or what `ownerOf` says), unless they are admin (403 otherwise).
 * Use after `authenticateUser()`.
 */
export function selfOrAdmin(ownerOf: (context: HookContext) => unknown = (context) => context.id) {
  return async (context: HookContext) => {
    const caller = context.params.caller
    if (!context.params.provider || caller?.role === 'admin') return
    if (!caller || ownerOf(context) !== caller.id) {
      throw new Forbidden(`You may not ${context.method} ${context.path} of another user`)
    }
  }
}

/**
 * The hooks of a resource addressed by a user's id (`GET /<path>/:userId`)
 * that only that user, or an admin, may read: a token (401), an empty or
 * valid query (400), a UUID id (404), the owner (403).
 */
export function userRecordHooks(queryValidator: Validator) {
  return {
    around: { all: [authenticateUser()] },
    before: {
      all: [schemaHooks.validateQuery(queryValidator)],
      get: [uuidId(), selfOrAdmin()]
    }
  }
}
