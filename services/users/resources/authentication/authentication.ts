import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { transactional } from '../../../../shared/feathers/transaction.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { clientAddress } from '../../login/client-address.ts'
import { admitLogin, loginSucceeded } from '../../login/hooks.ts'
import type { LoginThrottle } from '../../login/throttle.ts'
import { endSessions } from '../../sessions/end-sessions.ts'
import { refuseEndedSession } from '../../sessions/current-session.ts'
import { userExternalResolver, userResolver, userService } from '../users/users.ts'
import {
  EmailPasswordStrategy,
  UserAuthenticationService,
  UserTokenStrategy,
  authenticationSettings
} from './authentication.class.ts'
import { authenticationValidators } from './authentication.schema.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { authenticationPath, type AuthenticationResult } from './authentication.shared.ts'
import { authenticationManifest } from './authentication.manifest.ts'

export * from './authentication.class.ts'
export * from './authentication.schema.ts'
export * from './authentication.shared.ts'

const validateAuthenticationRequest = async (context: HookContext) => {
  const data = context.data as { strategy?: unknown } | undefined
  await schemaHooks.validateData(authenticationValidators[data?.strategy === 'jwt' ? 'jwt' : 'local'])(context)
}

/** Each successful login with a password stamps the account's `lastLoginAt`. */
const stampLastLogin = async (context: HookContext) => {
  const result = context.result as AuthenticationResult
  if (result.authentication?.strategy !== 'local') return
  result.user = await userService(context.app)._patch(result.user.id, { lastLoginAt: isoTimestamp() })
}

/** The user in a login result is shown as `GET /users/:id` shows it: without the password hash. */
const publicUser = async (context: HookContext) => {
  const result = context.result as AuthenticationResult
  result.user = await userExternalResolver.resolve(await userResolver.resolve(result.user, context), context)
}

/**
 * `authentication`: logging in (`create`, throttled per address and per account) and logging out
 * (`remove`, which ends every session of the token's user).
 */
export const authentication = (throttle: LoginThrottle) => (app: ServiceApp) => {
  app.set('authentication', authenticationSettings(app))
  const service = new UserAuthenticationService(app)
  service.register('jwt', new UserTokenStrategy())
  service.register('local', new EmailPasswordStrategy())
  app.use(authenticationPath, service, { ...serviceOptions(authenticationManifest), events: [], koa: { before: [clientAddress()] } })
  app.service(authenticationPath).hooks({
    around: { remove: [authenticateUser(), transactional()] },
    before: { create: [validateAuthenticationRequest, admitLogin(throttle)], remove: [refuseEndedSession] },
    after: {
      create: [loginSucceeded(throttle), stampLastLogin, publicUser],
      remove: [endSessions('logout', (context) => (context.result as AuthenticationResult).user.id), publicUser]
    }
  })
}
