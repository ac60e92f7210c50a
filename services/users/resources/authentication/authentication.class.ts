import { AuthenticationService, JWTStrategy, type AuthenticationParams, type AuthenticationResult } from '@feathersjs/authentication'
import { LocalStrategy } from '@feathersjs/authentication-local'
import type { Params, Query } from '@feathersjs/feathers'
import { jwtOptions } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { User } from '../users/users.class.ts'
import { userPath } from '../users/users.shared.ts'

/**
 * Issues the tokens every Bazaar service verifies (`verifyUserToken`): the
 * shared `jwtOptions`, the user's id as subject, and role, email and name in
 * the payload so other services never have to ask who a caller is.
 */
export class UserAuthenticationService extends AuthenticationService {
  async getPayload(authResult: AuthenticationResult, params: AuthenticationParams) {
    const payload = await super.getPayload(authResult, params)
    const { role, email, name } = authResult.user as User
    return { ...payload, role, email, name }
  }
}

/** Email and password; emails are matched as registered (lowercase). */
export class EmailPasswordStrategy extends LocalStrategy {
  async getEntityQuery(query: Query, _params: Params) {
    return { $limit: 1, email: String(query.email).toLowerCase() }
  }

  /** The strategy has just read the user itself; reading them again as the caller would need a token they do not have yet. */
  async getEntity(entity: User, _params: Params) {
    return entity
  }
}

/** A still valid token, exchanged for its user (read internally, like the local strategy does). */
export class UserTokenStrategy extends JWTStrategy {
  async getEntity(id: string, params: Params) {
    const { provider: _provider, ...internal } = params
    return super.getEntity(id, internal)
  }
}

export function authenticationSettings(app: ServiceApp) {
  return {
    secret: app.get('env').jwtSecret,
    entity: 'user',
    service: userPath,
    authStrategies: ['jwt', 'local'],
    jwtOptions,
    local: { usernameField: 'email', passwordField: 'password' }
  }
}
