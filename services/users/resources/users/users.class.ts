import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { User, UserAccountData, UserData, UserPatch, UserQuery } from './users.schema.ts'

export type { User, UserData, UserPatch, UserQuery }

export interface UserParams extends Params<UserQuery> {
  /** the profile as it was before a patch: what `user.updated` compares against */
  previous?: User
}

/** Accounts in this service's `users` table. Server-owned fields (lastLoginAt) are written with `_patch`. */
export class UserService extends KnexService<User, UserData | UserAccountData, UserParams, Partial<User>> {}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'users',
  id: 'id'
})
