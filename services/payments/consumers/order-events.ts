import type { Knex } from 'knex'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { ORDER_CANCELLED, ORDER_PAID } from '../../../shared/contracts/checkout.ts'
import { ORDER_PLACED } from '../../../shared/contracts/order.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { lockOrder, ordersTable, refundCapturesOf } from '../payment-rows.ts'
import { orderEvents } from '../topology.ts'

type OrderEvent = typeof ORDER_PLACED | typeof ORDER_PAID | typeof ORDER_CANCELLED

/**
 * Projects order.placed / order.paid / order.cancelled into payments' own `orders` table, exactly once per
 * message (inbox). Any of the three can create the row (each carries buyer, total and currency), so the order
 * they arrive in does not matter: placed never overwrites, paid only moves an open order, cancelled is final.
 *
 * Under the order's row lock (the charge job takes the same lock before recording a capture), cancelled refunds
 * every capture of the order and paid every capture but the paying one: whichever of the capture and this event
 * commits second sees the other, so each unwanted capture gets its one refund.
 */
export function orderEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')

  /** The order's row, locked; created from the event when this is the first payments hears of the order. */
  const lockedOrder = async (trx: Knex.Transaction, row: { orderId: string; buyerId: string; amount: number; currency: string; status: string; paidPaymentId?: string }) => {
    await ordersTable(trx, schema).insert(row).onConflict('orderId').ignore()
    return (await lockOrder(trx, schema, row.orderId))!
  }

  const handle = idempotent<OrderEvent>(
    { db: app.get('db'), schema, consumer: orderEvents.purpose, logger: app.get('logger') },
    async (message: Envelope<OrderEvent>, trx: Knex.Transaction) => {
      const p = message.payload
      const base = { orderId: p.orderId, buyerId: p.buyerId, amount: p.total, currency: p.currency }
      if (message.routingKey === ORDER_PLACED) {
        await ordersTable(trx, schema).insert({ ...base, status: 'open' }).onConflict('orderId').ignore()
        return
      }
      if (message.routingKey === ORDER_PAID) {
        const paymentId = (message as Envelope<typeof ORDER_PAID>).payload.paymentId
        const order = await lockedOrder(trx, { ...base, status: 'paid', paidPaymentId: paymentId })
        if (order.status === 'open') await ordersTable(trx, schema).where({ orderId: order.orderId }).update({ status: 'paid', paidPaymentId: paymentId })
        // the payment that pays the order is the first one order.paid named; a cancelled order keeps none
        const paying = order.status === 'open' ? paymentId : order.status === 'paid' ? order.paidPaymentId : null
        await refundCapturesOf(app, trx, order.orderId, paying)
        return
      }
      const order = await lockedOrder(trx, { ...base, status: 'cancelled' })
      if (order.status !== 'cancelled') await ordersTable(trx, schema).where({ orderId: order.orderId }).update({ status: 'cancelled' })
      await refundCapturesOf(app, trx, order.orderId, null)
    }
  )
  app.get('bus').consumer({ ...orderEvents, handlers: { [ORDER_PLACED]: handle, [ORDER_PAID]: handle, [ORDER_CANCELLED]: handle } })
}
