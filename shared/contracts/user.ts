import { Type, type Static } from '@feathersjs/typebox'
import { timeZoneField } from './time-zone.ts'

export const USER_REGISTERED = 'user.registered'
export const USER_UPDATED = 'user.updated'

const role = Type.Union([Type.Literal('buyer'), Type.Literal('seller'), Type.Literal('admin')])
/**
 * The user's IANA time zone (a seller's digest is sent in it). Optional in the contract so that events
 * written before users had one still pass: a consumer reads a missing zone as DEFAULT_TIME_ZONE.
 */
const timeZone = Type.Optional(timeZoneField)

/**
 * The account's version: 1 when registered, one more with every change, so a
 * projection keeps the newest name and role whatever order events arrive in
 * (two outbox relays may publish them out of order). Optional: events from
 * before it was added carry none.
 */
const version = Type.Optional(Type.Integer({ minimum: 1 }))

export const userRegisteredSchema = Type.Object(
  {
    userId: Type.String({ minLength: 1 }),
    email: Type.String({ format: 'email' }),
    name: Type.String(),
    role,
    timeZone,
    registeredAt: Type.String({ format: 'date-time' }),
    version
  },
  { $id: 'UserRegistered', additionalProperties: false }
)
export type UserRegistered = Static<typeof userRegisteredSchema>

export const userUpdatedSchema = Type.Object(
  {
    userId: Type.String({ minLength: 1 }),
    email: Type.String({ format: 'email' }),
    name: Type.String(),
    role,
    timeZone,
    /** names of the fields that changed */
    changes: Type.Array(Type.String()),
    updatedAt: Type.String({ format: 'date-time' }),
    version
  },
  { $id: 'UserUpdated', additionalProperties: false }
)
export type UserUpdated = Static<typeof userUpdatedSchema>

export const USER_SESSIONS_REVOKED = 'user.sessions_revoked'

/**
 * A user's sessions were ended (logout, password change): every token of theirs with a
 * `sessionVersion` below this one is revoked. Versions only grow, so consumers keep the highest seen.
 */
export const userSessionsRevokedSchema = Type.Object(
  {
    userId: Type.String({ minLength: 1 }),
    /** the lowest session version still valid */
    sessionVersion: Type.Integer({ minimum: 1 }),
    reason: Type.Union([Type.Literal('logout'), Type.Literal('password-changed')]),
    revokedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'UserSessionsRevoked', additionalProperties: false }
)
export type UserSessionsRevoked = Static<typeof userSessionsRevokedSchema>
