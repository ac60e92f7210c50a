import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import { ORDER_CANCELLED } from '../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { cancelOrder } from '../checkout/transitions.ts'

/** The delayed job that cancels an order not paid within ORDER_PAYMENT_TIMEOUT; keyed by the order's id. */
export const PAYMENT_DEADLINE = 'order-payment-deadline'

const paymentDeadlinePayload = Type.Object({ orderId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/** Sets the order's payment deadline in the transaction that places it: no order without one. */
export async function schedulePaymentDeadline(app: ServiceApp, trx: Knex.Transaction, orderId: string): Promise<void> {
  const delayMs = serviceConfig(app, 'orders').orderPaymentTimeoutMs
  await app.get('jobs').schedule(trx, PAYMENT_DEADLINE, { key: orderId, runAt: { delayMs }, payload: { orderId } })
}

/** Drops the deadline of an order that was paid or cancelled, in that step's transaction. */
export async function cancelPaymentDeadline(app: ServiceApp, trx: Knex.Transaction, orderId: string): Promise<void> {
  await app.get('jobs').cancel(trx, PAYMENT_DEADLINE, orderId)
}

/**
 * The deadline's handler: an order still `created` is cancelled, its stock released and order.cancelled written
 * in the job's transaction. The order's row is locked (cancelOrder): a capture committing at the same moment
 * either comes first (the order is paid: nothing to do) or finds it cancelled, and the payments service refunds it.
 */
export function paymentDeadlines(app: ServiceApp): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('jobs').define(PAYMENT_DEADLINE, {
    payload: paymentDeadlinePayload,
    handler: async (job, trx) => {
      const outcome = await cancelOrder(trx, schema, job.payload.orderId, 'payment_timeout')
      if ('cancelled' in outcome) await writeOutbox(trx, identity, ORDER_CANCELLED, outcome.cancelled)
    }
  })
}
