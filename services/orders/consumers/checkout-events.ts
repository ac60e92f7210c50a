import { writeOutbox } from '../../../shared/bus/outbox.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { DELIVERY_SHIPPED, ORDER_FULFILLED, ORDER_PAID, PAYMENT_CAPTURED, PAYMENT_FAILED } from '../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { recordStep } from '../checkout/steps.ts'
import { payOrder, recordShipment } from '../checkout/transitions.ts'
import { cancelPaymentDeadline } from '../jobs/payment-deadline.ts'
import { checkoutEvents } from '../topology.ts'

/**
 * The checkout's process manager, driven by the other services' events; every step exactly once (inbox) and in
 * one transaction with the order's state and the events it causes:
 * - payment.captured: an open order is paid (stock committed, deadline dropped, order.paid for fulfilment);
 * - payment.failed: noted; the order stays open for another payment until its deadline;
 * - delivery.shipped: noted per seller; the last one makes a paid order fulfilled (order.fulfilled).
 */
export function checkoutEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  const inbox = { db: app.get('db'), schema, consumer: checkoutEvents.purpose, logger: app.get('logger') }

  const captured = idempotent<typeof PAYMENT_CAPTURED>(inbox, async (message, trx) => {
    const paid = await payOrder(trx, schema, message.payload)
    if (!paid) return
    await cancelPaymentDeadline(app, trx, paid.orderId)
    await writeOutbox(trx, identity, ORDER_PAID, paid)
  })
  const failed = idempotent<typeof PAYMENT_FAILED>(inbox, async (message, trx) => {
    const known = await trx.withSchema(schema).table('orders').where({ id: message.payload.orderId }).first('id')
    if (known) await recordStep(trx, schema, known.id, 'payment-failed', { paymentId: message.payload.paymentId, reason: message.payload.reason })
  })
  const shipped = idempotent<typeof DELIVERY_SHIPPED>(inbox, async (message, trx) => {
    const fulfilled = await recordShipment(trx, schema, message.payload)
    if (fulfilled) await writeOutbox(trx, identity, ORDER_FULFILLED, fulfilled)
  })

  app.get('bus').consumer({ ...checkoutEvents, handlers: { [PAYMENT_CAPTURED]: captured, [PAYMENT_FAILED]: failed, [DELIVERY_SHIPPED]: shipped } })
}
