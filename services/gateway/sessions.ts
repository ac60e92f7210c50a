import { NotAuthenticated } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import { bearerToken, readUserToken } from '../../shared/feathers/auth.ts'
import type { SessionRevocations } from './live/sessions.ts'

/**
 * Koa middleware in front of the proxy and the gateway's own resources: a
 * user's token whose sessions have ended (logout, password change) is a 401
 * here, on every instance, from the versions it holds in memory, before any
 * service (which verify tokens statelessly) is asked. Anything else passes:
 * tokens that are not valid are for the services to refuse as they always do.
 */
export function refuseEndedSessions(options: { sessions: () => SessionRevocations; jwtSecret: () => string }): Middleware {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('authorization'))
    const claims = token ? readUserToken(token, options.jwtSecret()) : undefined
    if (claims && options.sessions().isRevoked(claims.caller.id, claims.sessionVersion)) {
      throw new NotAuthenticated('This session has ended; log in again')
    }
    return next()
  }
}
