import { createSecretKey, type KeyObject } from 'node:crypto'
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

/** What a valid user token says beyond who it belongs to: which session generation, and until when. */
export interface UserTokenClaims {
  caller: Caller
  /**
   * The user's session version when the token was signed (claim `sessionVersion`). Ending a user's
   * sessions raises the version; a token below the current one is revoked. Tokens signed before the
   * claim existed count as version 0.
   */
  sessionVersion: number
  /** when the token expires, in ms since the epoch */
  expiresAt: number
}

/**
 * The secret as a key object, made once per secret: given the string, jsonwebtoken builds a key object on
 * every verify, which costs about 0.5 ms of CPU (the whole verify with a key object: about 13 µs).
 */
const secretKeys = new Map<string, KeyObject>()
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret)
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'))
    secretKeys.set(secret, key)
  }
  return key
}

/**
 * Tokens verified lately, by their whole text (signature included) and the secret: a client sends
 * the same token with every request, and jsonwebtoken's verify, even with a key object, was the
 * largest single cost of an admin's PUT under load (some 85 µs of 1.5 ms). What verify checks is
 * fixed by the text and the secret, except the clock: expiry (and not-before) is checked again at
 * every use, as verify would. Bounded: past `MAX_VERIFIED` it starts again empty.
 */
const verified = new Map<string, { claims: UserTokenClaims; notBefore: number }>()
const MAX_VERIFIED = 10_000

/** Verifies a user's access token; returns its claims, or undefined if it is not valid. */
export function readUserToken(token: string, secret: string): UserTokenClaims | undefined {
  const key = `${secret.length}:${secret}:${token}`
  const known = verified.get(key)
  if (known) {
    // jsonwebtoken's rule: expired once the clock's second reaches `exp`, valid from `nbf` on
    const now = Math.floor(Date.now() / 1000)
    if (now >= known.claims.expiresAt / 1000 || now < known.notBefore) {
      verified.delete(key)
      return undefined
    }
    // a copy each time: a caller may change what it is given
    return { ...known.claims, caller: { ...known.claims.caller } }
  }
  const claims = verifyToken(token, secret)
  if (claims) {
    if (verified.size >= MAX_VERIFIED) verified.clear()
    verified.set(key, { claims: claims.claims, notBefore: claims.notBefore })
    return { ...claims.claims, caller: { ...claims.claims.caller } }
  }
  return undefined
}

function verifyToken(token: string, secret: string): { claims: UserTokenClaims; notBefore: number } | undefined {
  try {
    const payload = jwt.verify(token, secretKey(secret), {
      algorithms: [jwtOptions.algorithm],
      audience: jwtOptions.audience,
      issuer: jwtOptions.issuer
    }) as jwt.JwtPayload
    const role = payload.role
    if (typeof payload.sub !== 'string' || !['buyer', 'seller', 'admin'].includes(role)) return undefined
    const version = payload.sessionVersion ?? 0
    if (!Number.isSafeInteger(version) || version < 0 || typeof payload.exp !== 'number') return undefined
    const claims: UserTokenClaims = {
      caller: {
        id: payload.sub,
        role,
        email: typeof payload.email === 'string' ? payload.email : undefined,
        name: typeof payload.name === 'string' ? payload.name : undefined
      },
      sessionVersion: version,
      expiresAt: payload.exp * 1000
    }
    return { claims, notBefore: typeof payload.nbf === 'number' ? payload.nbf : 0 }
  } catch {
    return undefined
  }
}

/** Verifies a user's access token; returns who it belongs to, or undefined if it is not valid. */
export function verifyUserToken(token: string, secret: string): Caller | undefined {
  return readUserToken(token, secret)?.caller
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
