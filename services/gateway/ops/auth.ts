import { Forbidden, NotAuthenticated } from '@feathersjs/errors'
import { bearerToken, readUserToken, type UserTokenClaims } from '../../../shared/feathers/auth.ts'

export interface AdminCheck {
  jwtSecret: string
  /** whether the user's sessions ended after this token was signed */
  revoked: (userId: string, sessionVersion: number) => boolean
}

/**
 * The console is for admins: 401 without a valid, live user token, 403 for any other role. The page
 * keeps the token in memory and sends it as `Authorization: Bearer`; the SSE stream, which a
 * browser's EventSource cannot give headers, may carry it as `?token=` (as `/events` does).
 */
export function requireAdmin(authorization: string | undefined, queryToken: string | undefined, check: AdminCheck): UserTokenClaims {
  const token = bearerToken(authorization) ?? queryToken
  if (!token) throw new NotAuthenticated('Not authenticated')
  const claims = readUserToken(token, check.jwtSecret)
  if (!claims || claims.expiresAt <= Date.now()) throw new NotAuthenticated('Invalid or expired token')
  if (check.revoked(claims.caller.id, claims.sessionVersion)) throw new NotAuthenticated('This session has ended; log in again')
  if (claims.caller.role !== 'admin') throw new Forbidden('Only admin may use the operations console')
  return claims
}
