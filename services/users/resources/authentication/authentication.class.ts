import { AuthenticationService, JWTStrategy, type AuthenticationParams, type AuthenticationRequest, type AuthenticationResult } from '@feathersjs/authentication'
import { LocalStrategy } from '@feathersjs/authentication-local'
import { NotAuthenticated } from '@feathersjs/errors'
import type { NullableId, Params, Query } from '@feathersjs/feathers'
import { bearerToken, jwtOptions } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { User } from '../users/users.class.ts'
import { userPath } from '../users/users.shared.ts'

/**
 * Issues the tokens every Bazaar service verifies (`verifyUserToken`): the
 * shared `jwtOptions`, the user's id as subject, and role, email and name in
 * the payload so other services never have to ask who a caller is, and the
 * user's `sessionVersion`, which ending their sessions raises (revoking the token).
 */
export class UserAuthenticationService extends AuthenticationService {
  async getPayload(authResult: AuthenticationResult, params: AuthenticationParams) {
    const payload = await super.getPayload(authResult, params)
    const { role, email, name, sessionVersion } = authResult.user as User
    return { ...payload, role, email, name, sessionVersion: sessionVersion ?? 0 }
  }

  /**
   * `DELETE /authentication` (Feathers' logout) with the token in `Authorization`: answers the token
   * and its user, as Feathers does; the hooks around it (authentication.ts) check the token and end
   * every session of its user.
   */
  async remove(_id: NullableId, params?: AuthenticationParams) {
    const accessToken = bearerToken(params?.headers?.authorization)
    const caller = params?.caller
    if (!accessToken || !caller) throw new NotAuthenticated('Not authenticated')
    const { provider: _provider, ...internal } = params
    const user = await this.app.service(userPath).get(caller.id, internal)
    return { accessToken, authentication: { strategy: 'jwt' }, user }
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

/** A still valid token, exchanged for its user (read internally, like the local strategy does); a token of ended sessions is refused. */
export class UserTokenStrategy extends JWTStrategy {
  async getEntity(id: string, params: Params) {
    const { provider: _provider, ...internal } = params
    return super.getEntity(id, internal)
  }

  async authenticate(authentication: AuthenticationRequest, params: AuthenticationParams) {
    const result = await super.authenticate(authentication, params)
    const claimed = result.authentication?.payload?.sessionVersion ?? 0
    if (claimed < ((result as AuthenticationResult).user?.sessionVersion ?? 0)) throw new NotAuthenticated('This session has ended; log in again')
    return result
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
