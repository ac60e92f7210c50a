import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

/** The orders service's own settings (validated at start). */
export const ordersConfigSchema = Type.Object(
  {
    /** CLAIM_RESPONSE_TIMEOUT: how long the sellers have to answer a claim before it is escalated to the admins (ms) */
    claimResponseTimeoutMs: Type.Integer({ minimum: 1, default: 48 * 3_600_000 }),
    /** ORDER_PAYMENT_TIMEOUT: how long an order waits for its payment before it is cancelled and its stock released (ms) */
    orderPaymentTimeoutMs: Type.Integer({ minimum: 1, default: 30 * 60_000 })
  },
  { $id: 'OrdersConfig', additionalProperties: false }
)
export type OrdersConfig = Static<typeof ordersConfigSchema>

/** Values from the process environment; unset ones take the schema's defaults. */
export function ordersConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  return { claimResponseTimeoutMs: durationMs(vars.CLAIM_RESPONSE_TIMEOUT), orderPaymentTimeoutMs: durationMs(vars.ORDER_PAYMENT_TIMEOUT) }
}
