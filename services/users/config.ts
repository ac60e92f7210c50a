import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

/** The users service's own settings (validated at start): how hard password guessing is throttled. */
export const usersConfigSchema = Type.Object(
  {
    /** failed logins one client address may make per window, whatever accounts they are for */
    loginRateAddressPoints: Type.Integer({ minimum: 1, default: 10 }),
    /**
     * failed logins one account may take per window, from any address. Larger than the per-address
     * bound, and reset by a successful login, so that a guesser elsewhere rarely locks its owner out.
     */
    loginRateAccountPoints: Type.Integer({ minimum: 1, default: 50 }),
    /** the window both counts run over (ms) */
    loginRateWindowMs: Type.Integer({ minimum: 100, default: 900_000 })
  },
  { $id: 'UsersConfig', additionalProperties: false }
)
export type UsersConfig = Static<typeof usersConfigSchema>

/** Values from the process environment; unset ones take the schema's defaults. */
export function usersConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    loginRateAddressPoints: vars.LOGIN_RATE_ADDRESS_POINTS,
    loginRateAccountPoints: vars.LOGIN_RATE_ACCOUNT_POINTS,
    loginRateWindowMs: durationMs(vars.LOGIN_RATE_WINDOW)
  }
}
