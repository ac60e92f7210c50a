import type { AuthenticationResult } from '@feathersjs/authentication'

export type { AuthenticationResult }

/**
 * Where users log in: `POST /authentication` with `{ strategy: 'local', email, password }`; and log
 * out: `DELETE /authentication` with the token, which ends every session of its user.
 */
export const authenticationPath = 'authentication'

export const authenticationMethods = ['create', 'remove'] as const
