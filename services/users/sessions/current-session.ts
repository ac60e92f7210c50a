import { NotAuthenticated } from '@feathersjs/errors'
import { bearerToken, readUserToken } from '../../../shared/feathers/auth.ts'
import type { HookContext } from '../../../shared/feathers/declarations.ts'

/** The session version a user's tokens must have at least; 0 for an account this service does not hold. */
export async function currentSessionVersion(context: HookContext, userId: string): Promise<number> {
  const db = context.params.transaction?.trx ?? context.app.get('db')
  const row = await db(`${context.app.get('schema')}.users`).where({ id: userId }).first('sessionVersion')
  return row?.sessionVersion ?? 0
}

/**
 * Before hook, after `authenticateUser()`: a token whose sessions have ended (logout, password
 * change) is refused here at once, from this service's own table, however valid its signature
 * (other services learn it from `user.sessions_revoked`).
 */
export async function refuseEndedSession(context: HookContext): Promise<void> {
  if (!context.params.provider || !context.params.caller) return
  const token = bearerToken(context.params.headers?.authorization)
  const claims = token ? readUserToken(token, context.app.get('env').jwtSecret) : undefined
  if (!claims || claims.sessionVersion < (await currentSessionVersion(context, claims.caller.id))) {
    throw new NotAuthenticated('This session has ended; log in again')
  }
}
