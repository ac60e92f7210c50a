import type { HookContext } from '../../../shared/feathers/declarations.ts'
import type { LoginThrottle } from './throttle.ts'

/** Where a request came from; calls that carry none (internal ones are never throttled) share one key. */
const addressOf = (context: HookContext) => context.params.clientAddress ?? 'unknown'

/** A password check from outside, which the throttle counts: a local login. */
const passwordLogin = (context: HookContext) => {
  const data = context.data as { strategy?: unknown; email?: unknown } | undefined
  return context.params.provider && data?.strategy === 'local' && typeof data.email === 'string' ? data.email : undefined
}

/** Before hook of `POST /authentication` (after validation): 429 when the address or the account has guessed enough. */
export const admitLogin = (throttle: LoginThrottle) => async (context: HookContext) => {
  const email = passwordLogin(context)
  if (email) await throttle.admit(email, addressOf(context))
}

/** After hook: the login succeeded, so its attempt does not count. */
export const loginSucceeded = (throttle: LoginThrottle) => async (context: HookContext) => {
  const email = passwordLogin(context)
  if (email) await throttle.succeeded(email, addressOf(context))
}
