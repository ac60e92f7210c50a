import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

/** The subscriptions service's own settings (validated at start; durations in ms, see durationMs()). */
export const subscriptionsConfigSchema = Type.Object(
  {
    /** PLAN_PERIOD: how long one paid period lasts; a renewal charges the next one at its end (ms) */
    planPeriodMs: Type.Integer({ minimum: 1, default: 30 * 86_400_000 }),
    /** CARD_PROVIDER_URL: the card provider's HTTP API */
    cardProviderUrl: Type.String({ minLength: 1, default: 'http://127.0.0.1:3049' }),
    /** CARD_PROVIDER_TIMEOUT: one call's bound; an unanswered call is asked again with the same idempotency key (ms) */
    cardProviderTimeoutMs: Type.Integer({ minimum: 1, default: 2_000 }),
    /**
     * RENEWAL_RETRY_DELAYS: after a declined charge, wait these before each further try of the same period
     * (`1h,6h,24h`); the try after the last delay is the last one, and its decline makes the plan `past_due`.
     */
    renewalRetryDelaysMs: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 20, default: [3_600_000, 6 * 3_600_000, 24 * 3_600_000] })
  },
  { $id: 'SubscriptionsConfig', additionalProperties: false }
)
export type SubscriptionsConfig = Static<typeof subscriptionsConfigSchema>

/** A comma-separated list of durations; anything malformed is handed on as it is, for the schema to refuse by name. */
function durationList(value: string | undefined): unknown {
  if (value === undefined || value.trim() === '') return undefined
  return value.split(',').map((part) => durationMs(part.trim()) ?? part)
}

/** Values from the process environment; unset ones take the schema's defaults. */
export function subscriptionsConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    planPeriodMs: durationMs(vars.PLAN_PERIOD),
    cardProviderUrl: vars.CARD_PROVIDER_URL || undefined,
    cardProviderTimeoutMs: durationMs(vars.CARD_PROVIDER_TIMEOUT),
    renewalRetryDelaysMs: durationList(vars.RENEWAL_RETRY_DELAYS)
  }
}
