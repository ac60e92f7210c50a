import type { AuthenticationResult } from '@feathersjs/authentication'

export type { AuthenticationResult }

/** Where users log in: `POST /authentication` with `{ strategy: 'local', email, password }`. */
export const authenticationPath = 'authentication'

export const authenticationMethods = ['create'] as const
