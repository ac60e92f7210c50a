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
export class UserService extends KnexService<User, UserData | UserAccountData, UserParams, Partial<User>> {
  /** Every change is a new version of the account, counted by the database from the row's own (no two patches get the same). */
  async _patch(id: any, data: any, params?: UserParams): Promise<any> {
    return super._patch(id, { ...data, version: this.getModel(params).raw('?? + 1', ['version']) }, params)
  }
}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'users',
  id: 'id'
})
