import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

/** The payments service's own settings (validated at start). */
export const paymentsConfigSchema = Type.Object(
  {
    /** CARD_PROVIDER_URL: where the card provider (a third party, its own process) answers */
    cardProviderUrl: Type.String({ format: 'uri', default: 'http://127.0.0.1:3049' }),
    /** CARD_PROVIDER_TIMEOUT: one attempt's bound (ms); an attempt that has not answered by then is asked again with the same key */
    cardProviderTimeoutMs: Type.Integer({ minimum: 1, default: 2_000 }),
    /** further attempts of one call inside the client (p-retry, exponential from 100 ms) before the job's own retry */
    cardProviderRetries: Type.Integer({ minimum: 0, default: 3 }),
    /**
     * CHARGE_RETRY_DELAYS (comma-separated durations): how long the charge job waits before its 2nd, 3rd, ...
     * attempt while the provider does not answer; after the last one it reconciles by the key (findCharge)
     */
    chargeRetryDelaysMs: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, default: [1_000, 5_000, 30_000, 120_000, 600_000] }),
    /** REFUND_RETRY_DELAYS: the same for refunds, which are retried until the provider answers */
    refundRetryDelaysMs: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, default: [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000] }),
    /** ORDER_WAIT: how long POST /payments waits for an order it has not heard of yet (placed a moment ago) before 404 (ms) */
    orderWaitMs: Type.Integer({ minimum: 0, default: 5_000 })
  },
  { $id: 'PaymentsConfig', additionalProperties: false }
)
export type PaymentsConfig = Static<typeof paymentsConfigSchema>

/** `1s,5s,30s` as milliseconds; a malformed entry is kept as it is, for the schema to refuse by name. */
function durationList(value: string | undefined): unknown[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  return value.split(',').map((part) => durationMs(part.trim()))
}

/** Values from the process environment; unset ones take the schema's defaults. */
export function paymentsConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    cardProviderUrl: vars.CARD_PROVIDER_URL || undefined,
    cardProviderTimeoutMs: durationMs(vars.CARD_PROVIDER_TIMEOUT),
    chargeRetryDelaysMs: durationList(vars.CHARGE_RETRY_DELAYS),
    refundRetryDelaysMs: durationList(vars.REFUND_RETRY_DELAYS),
    orderWaitMs: durationMs(vars.ORDER_WAIT)
  }
}
