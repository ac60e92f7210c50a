import { randomUUID } from 'node:crypto'
import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import { passwordHash } from '@feathersjs/authentication-local'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'
import { DEFAULT_TIME_ZONE, timeZoneField } from '../../../../shared/contracts/time-zone.ts'

const buyer = Type.Literal('buyer')
const seller = Type.Literal('seller')
const admin = Type.Literal('admin')
const timestamp = Type.String({ format: 'date-time' })

/** A Bazaar account. `password` is only ever its bcrypt hash, and never leaves the service. */
export const userSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email', maxLength: 254 }),
    // bcrypt reads at most 72 bytes
    password: Type.String({ minLength: 8, maxLength: 72 }),
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    role: Type.Union([buyer, seller, admin]),
    bio: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    /** IANA name (checked with Intl by the hooks); a seller's daily digest follows it */
    timeZone: timeZoneField,
    createdAt: timestamp,
    updatedAt: timestamp,
    lastLoginAt: Type.Union([timestamp, Type.Null()]),
    /** raised whenever the user's sessions end: tokens signed with a lower one are refused; never leaves the service */
    sessionVersion: Type.Integer({ minimum: 0 }),
    /** one more with every change of the account (the class counts it); user.* events carry it, the API does not show it */
    version: Type.Integer({ minimum: 1 })
  },
  { $id: 'User', additionalProperties: false }
)
export type User = Static<typeof userSchema>

export const userResolver = resolve<User, HookContext>({
  createdAt: timestampField,
  updatedAt: timestampField,
  lastLoginAt: timestampField
})

export const userExternalResolver = resolve<User, HookContext>({
  password: async () => undefined,
  sessionVersion: async () => undefined,
  version: async () => undefined
})

/** Registration: anyone may open a buyer or seller account; admins are only bootstrapped. */
export const userDataSchema = Type.Object(
  {
    ...Type.Pick(userSchema, ['email', 'password', 'name']).properties,
    role: Type.Union([buyer, seller]),
    timeZone: Type.Optional(timeZoneField)
  },
  { $id: 'UserData', additionalProperties: false }
)
export type UserData = Static<typeof userDataSchema>
export const userDataValidator = getValidator(userDataSchema, dataValidator)

/** An account the service opens itself (the bootstrap admin). */
export const userAccountDataSchema = Type.Pick(userSchema, ['email', 'password', 'name', 'role'], {
  $id: 'UserAccountData',
  additionalProperties: false
})
export type UserAccountData = Static<typeof userAccountDataSchema>
export const userAccountDataValidator = getValidator(userAccountDataSchema, dataValidator)

export const userDataResolver = resolve<User, HookContext>({
  converter: async (data) => {
    const now = isoTimestamp()
    return { ...data, createdAt: now, updatedAt: now }
  },
  properties: {
    id: async () => randomUUID(),
    email: async (value) => value?.toLowerCase(),
    password: passwordHash({ strategy: 'local' }),
    bio: async () => null,
    timeZone: async (value) => value ?? DEFAULT_TIME_ZONE,
    lastLoginAt: async () => null
  }
})

/**
 * What a user (or an admin) may change in an account: the profile, and the password. A user changing
 * their own password also gives the one they have (`currentPassword`); a new password ends every
 * session of the account, the caller's included.
 */
export const userPatchSchema = Type.Partial(
  Type.Object({
    ...Type.Pick(userSchema, ['name', 'bio', 'timeZone', 'password']).properties,
    currentPassword: Type.String({ minLength: 1, maxLength: 72 })
  }),
  { $id: 'UserPatch', additionalProperties: false, minProperties: 1 }
)
export type UserPatch = Static<typeof userPatchSchema>
export const userPatchValidator = getValidator(userPatchSchema, dataValidator)
/** The fields of the profile, whose changes `user.updated` names (not the password). */
export const profileFields: Array<'name' | 'bio' | 'timeZone'> = ['name', 'bio', 'timeZone']

export const userPatchResolver = resolve<User & { currentPassword?: string }, HookContext>({
  updatedAt: async () => isoTimestamp(),
  password: passwordHash({ strategy: 'local' }),
  // checked against the stored hash before (passwords.ts), never written
  currentPassword: async () => undefined
})

export const userQuerySchema = querySyntax(Type.Pick(userSchema, ['id', 'email']))
export type UserQuery = Static<typeof userQuerySchema>
export const userQueryValidator = getValidator(userQuerySchema, queryValidator)
