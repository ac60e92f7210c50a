import { BadRequest } from '@feathersjs/errors'
import type { AuthenticationService } from '@feathersjs/authentication'
import type { LocalStrategy } from '@feathersjs/authentication-local'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import type { LoginThrottle } from '../../login/throttle.ts'
import { endSessions } from '../../sessions/end-sessions.ts'
import type { User, UserParams, UserPatch } from './users.class.ts'

/**
 * Before hook of a patch, once `previous` is read: a user changing their own password must give the
 * current one (a stolen token alone cannot take the account over). Checking it is a password guess
 * like a login, so it is counted by the same throttle. An admin setting another user's password needs
 * no current one.
 */
export const checkCurrentPassword = (throttle: LoginThrottle) => async (context: HookContext) => {
  const data = context.data as UserPatch
  if (data.password === undefined) {
    if (data.currentPassword !== undefined) throw new BadRequest('currentPassword goes with a new password', { currentPassword: 'only with password' })
    return
  }
  if (!context.params.provider || context.params.caller?.id !== context.id) return
  if (data.currentPassword === undefined) throw new BadRequest('Changing the password needs the current one', { currentPassword: 'required with password' })
  const previous = (context.params as UserParams).previous as User
  const address = context.params.clientAddress ?? 'unknown'
  await throttle.admit(previous.email, address)
  const local = (context.app.service('authentication') as unknown as AuthenticationService).getStrategy('local') as LocalStrategy
  try {
    await local.comparePassword(previous, data.currentPassword)
  } catch {
    throw new BadRequest('The current password is not right', { currentPassword: 'does not match' })
  }
  await throttle.succeeded(previous.email, address)
}

const endAllSessions = endSessions('password-changed', (context) => (context.result as User).id)

/** After hook: a new password ends every session of the account (within the patch's transaction). */
export const endSessionsOnPasswordChange = async (context: HookContext) => {
  if ((context.data as UserPatch).password !== undefined) await endAllSessions(context)
}
