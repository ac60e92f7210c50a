import jwt from 'jsonwebtoken'
import { Forbidden, NotAuthenticated } from '@feathersjs/errors'
import type { Caller, HookContext } from './declarations.ts'

/** Token settings shared by the users service (which signs) and every other service (which verify). */
export const jwtOptions = {
  header: { typ: 'access' },
  audience: 'https://bazaar.local',
  issuer: 'bazaar',
  algorithm: 'HS256' as const,
  expiresIn: '1d' as const
}

/** Verifies a user's access token; returns who it belongs to, or undefined if it is not valid. */
export function verifyUserToken(token: string, secret: string): Caller | undefined {
  try {
    const payload = jwt.verify(token, secret, {
      algorithms: [jwtOptions.algorithm],
      audience: jwtOptions.audience,
      issuer: jwtOptions.issuer
    }) as jwt.JwtPayload
    const role = payload.role
    if (typeof payload.sub !== 'string' || !['buyer', 'seller', 'admin'].includes(role)) return undefined
    return {
      id: payload.sub,
      role,
      email: typeof payload.email === 'string' ? payload.email : undefined,
      name: typeof payload.name === 'string' ? payload.name : undefined
    }
  } catch {
    return undefined
  }
}

export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim())
  return match?.[1]
}

/**
 * Around hook: an external call must carry a valid user token (401 otherwise);
 * `params.caller` says who it is. Internal calls (no provider) pass through.
 */
export function authenticateUser(options: { optional?: boolean } = {}) {
  return async (context: HookContext, next: () => Promise<void>) => {
    if (context.params.provider) {
      const token = bearerToken(context.params.headers?.authorization)
      const caller = token ? verifyUserToken(token, context.app.get('env').jwtSecret) : undefined
      if (!caller && !(options.optional && !token)) throw new NotAuthenticated(token ? 'Invalid or expired token' : 'Not authenticated')
      if (caller) context.params.caller = caller
    }
    await next()
  }
}

/** Refuses (403) an authenticated external caller whose role is not in the list. */
export function requireRole(...roles: Caller['role'][]) {
  return async (context: HookContext) => {
    const caller = context.params.caller
    if (context.params.provider && (!caller || !roles.includes(caller.role))) {
      throw new Forbidden(`Only ${roles.join(' or ')} may ${context.method} ${context.path}`)
    }
  }
}

export const isAdmin = (context: HookContext) => context.params.caller?.role === 'admin'
