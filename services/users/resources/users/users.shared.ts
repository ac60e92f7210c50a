import type { User, UserData, UserPatch, UserQuery, UserService } from './users.class.ts'

export type { User, UserData, UserPatch, UserQuery }

/** Where the accounts resource is served, and what a client may call on it. */
export const userPath = 'users'

export const userMethods = ['create', 'get', 'patch'] as const satisfies ReadonlyArray<keyof UserService>
