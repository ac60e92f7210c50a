import { hooks as schemaHooks } from '@feathersjs/schema'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { userExternalResolver, userResolver, userService } from '../users/users.ts'
import {
  EmailPasswordStrategy,
  UserAuthenticationService,
  UserTokenStrategy,
  authenticationSettings
} from './authentication.class.ts'
import { authenticationValidators } from './authentication.schema.ts'
import { authenticationMethods, authenticationPath, type AuthenticationResult } from './authentication.shared.ts'

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
  result.user = await userService(context.app)._patch(result.user.id, { lastLoginAt: new Date().toISOString() })
}

/** The user in a login result is shown as `GET /users/:id` shows it: without the password hash. */
const publicUser = async (context: HookContext) => {
  const result = context.result as AuthenticationResult
  result.user = await userExternalResolver.resolve(await userResolver.resolve(result.user, context), context)
}

export const authentication = (app: ServiceApp) => {
  app.set('authentication' as never, authenticationSettings(app) as never)
  const service = new UserAuthenticationService(app)
  service.register('jwt', new UserTokenStrategy())
  service.register('local', new EmailPasswordStrategy())
  app.use(authenticationPath, service, { methods: [...authenticationMethods], events: [] })
  app.service(authenticationPath).hooks({
    before: { create: [validateAuthenticationRequest] },
    after: { create: [stampLastLogin, publicUser] }
  })
}
