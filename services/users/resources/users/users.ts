import { BadRequest, Conflict } from '@feathersjs/errors'
import { ERROR } from '@feathersjs/knex'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { Type } from '@feathersjs/typebox'
import { USER_REGISTERED, USER_UPDATED } from '../../../../shared/contracts/index.ts'
import { isTimeZone } from '../../../../shared/contracts/time-zone.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { selfOrAdmin } from '../../../../shared/feathers/resources.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { clientAddress } from '../../login/client-address.ts'
import type { LoginThrottle } from '../../login/throttle.ts'
import { refuseEndedSession } from '../../sessions/current-session.ts'
import { checkCurrentPassword, endSessionsOnPasswordChange } from './password-change.ts'
import { UserService, getOptions, type User, type UserParams } from './users.class.ts'
import {
  profileFields,
  userAccountDataValidator,
  userDataResolver,
  userDataValidator,
  userExternalResolver,
  userPatchResolver,
  userPatchValidator,
  userQueryValidator,
  userResolver,
  userSchema
} from './users.schema.ts'
import { userPath } from './users.shared.ts'
import { userManifest } from './users.manifest.ts'

export * from './users.class.ts'
export * from './users.schema.ts'
export * from './users.shared.ts'

type UserContext = HookContext

/** Registration from outside is checked against the public schema; the service's own accounts (admin) against the full one. */
const validateNewUser = (context: UserContext) =>
  schemaHooks.validateData(context.params.provider ? userDataValidator : userAccountDataValidator)(context)

/** A time zone the schema let through (a string) must also be one Intl knows: 400 naming timeZone otherwise. */
const knownTimeZone = async (context: UserContext) => {
  const { timeZone } = (context.data ?? {}) as { timeZone?: unknown }
  if (timeZone !== undefined && !isTimeZone(timeZone)) {
    throw new BadRequest('Unknown time zone', { timeZone: 'must be an IANA time zone name, e.g. Europe/Berlin' })
  }
}

/** The unique index on email, not a read before the insert, is what refuses a second account (no race). */
const emailTaken = async (context: UserContext) => {
  const cause = (context.error as Record<symbol, { code?: string; constraint?: string } | undefined>)?.[ERROR]
  if (cause?.code === '23505' && cause.constraint?.includes('email')) {
    context.error = new Conflict('An account with this email already exists', { email: 'already registered' })
  }
}

const emitRegistered = async (context: UserContext) => {
  const user = context.result as User
  await emit(context, USER_REGISTERED, {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    timeZone: user.timeZone,
    registeredAt: isoTimestamp(user.createdAt),
    version: user.version
  })
}

/** Reads the profile as it is, in the patch's transaction, so the change can be told apart from a no-op. */
const rememberProfile = async (context: UserContext) => {
  const params = context.params as UserParams
  params.previous = await userService(context.app)._get(context.id!, { transaction: params.transaction })
}

const emitUpdated = async (context: UserContext) => {
  const previous = (context.params as UserParams).previous!
  const user = context.result as User
  const data = context.data as Record<string, unknown>
  const changes = profileFields.filter((field) => field in data && previous[field] !== user[field])
  if (changes.length === 0) return
  await emit(context, USER_UPDATED, {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    timeZone: user.timeZone,
    changes,
    updatedAt: isoTimestamp(user.updatedAt),
    version: user.version
  })
}

/**
 * `users`: registration (open), reading and patching one's own profile (or
 * any, for admin). Registration emits `user.registered`, a real profile change
 * `user.updated`, both through the outbox in the write's transaction.
 */
/** The accounts resource with its own type (the app's service map is untyped). */
export const userService = (app: ServiceApp) => app.service(userPath) as unknown as UserService

export const users = (throttle: LoginThrottle) => (app: ServiceApp) => {
  app.use(userPath, new UserService(getOptions(app)), { ...serviceOptions(userManifest), events: [], koa: { before: [clientAddress()] } })
  app.service(userPath).hooks({
    around: {
      all: [publicQuery(Type.Omit(userSchema, ['password'])) /* the password hash is never selectable */, schemaHooks.resolveExternal(userExternalResolver), schemaHooks.resolveResult(userResolver)],
      create: [transactional()],
      get: [authenticateUser()],
      patch: [authenticateUser(), transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(userQueryValidator)],
      create: [validateNewUser, knownTimeZone, schemaHooks.resolveData(userDataResolver)],
      get: [refuseEndedSession, uuidId(), selfOrAdmin()],
      patch: [
        refuseEndedSession,
        uuidId(),
        selfOrAdmin(),
        schemaHooks.validateData(userPatchValidator),
        knownTimeZone,
        rememberProfile,
        checkCurrentPassword(throttle),
        schemaHooks.resolveData(userPatchResolver)
      ]
    },
    after: {
      create: [emitRegistered],
      patch: [emitUpdated, endSessionsOnPasswordChange]
    },
    error: {
      create: [emailTaken]
    }
  })
}
