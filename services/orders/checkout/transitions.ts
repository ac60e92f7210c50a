import type { Knex } from 'knex'
import type { DeliveryShipped, OrderCancelled, OrderFulfilled, OrderPaid, PaymentCaptured, ShipTo } from '../../../shared/contracts/checkout.ts'
import type { OrderLine } from '../../../shared/contracts/order.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'
import { sellerShares } from '../resources/orders/pricing.ts'
import { recordStep } from './steps.ts'
import { commitStock, releaseStock } from './stock.ts'

export type OrderStatus = 'created' | 'paid' | 'fulfilled' | 'cancelled'

interface LockedOrder {
  id: string
  buyerId: string
  status: OrderStatus
  items: OrderLine[]
  total: number
  currency: string
  shipTo: ShipTo | null
  sellerIds: string[]
  paymentId: string | null
}

/**
 * The checkout's transitions, each inside the caller's transaction (a consumer's inbox transaction, a job's, a
 * request's) with the order's row locked first: whatever arrives at the same moment (a capture and the payment
 * deadline, two captures, a cancellation) is decided one after the other, and each returns the event its caller
 * writes to the outbox in that same transaction, or nothing when the order had already moved on.
 */
async function lockOrder(trx: Knex.Transaction, schema: string, orderId: string): Promise<LockedOrder | undefined> {
  const row = await trx.withSchema(schema).table('orders').where({ id: orderId }).forUpdate().first()
  return row && { ...row, total: Number(row.total) }
}

async function setStatus(trx: Knex.Transaction, schema: string, orderId: string, status: OrderStatus, fields: Record<string, unknown>): Promise<void> {
  await trx.withSchema(schema).table('orders').where({ id: orderId }).update({ status, ...fields })
  await trx.withSchema(schema).table('seller_orders').where({ id: orderId }).update({ status })
}

/**
 * A capture for an order still waiting for its payment: the reservation is committed and the order paid. A
 * capture for an order that is no longer open (cancelled, or paid by another payment) changes nothing here;
 * the payments service refunds it when it learns the order's fate (order.cancelled, order.paid).
 */
export async function payOrder(trx: Knex.Transaction, schema: string, capture: PaymentCaptured): Promise<OrderPaid | undefined> {
  const order = await lockOrder(trx, schema, capture.orderId)
  if (!order) return undefined
  await recordStep(trx, schema, order.id, 'payment-captured', { paymentId: capture.paymentId, amount: capture.amount, currency: capture.currency })
  if (order.status !== 'created') {
    await recordStep(trx, schema, order.id, 'capture-after-close', { paymentId: capture.paymentId, status: order.status, paidBy: order.paymentId })
    return undefined
  }
  const paidAt = isoTimestamp()
  await commitStock(trx, schema, order.items)
  await setStatus(trx, schema, order.id, 'paid', { paymentId: capture.paymentId, paidAt })
  await recordStep(trx, schema, order.id, 'paid', { paymentId: capture.paymentId })
  return {
    orderId: order.id,
    buyerId: order.buyerId,
    paymentId: capture.paymentId,
    total: order.total,
    currency: order.currency,
    shipTo: order.shipTo,
    sellers: sellerShares(order.items),
    paidAt
  }
}

/** An open order is cancelled and its stock released; one that is paid, fulfilled or cancelled already is left as it is. */
export async function cancelOrder(
  trx: Knex.Transaction,
  schema: string,
  orderId: string,
  reason: OrderCancelled['reason']
): Promise<{ cancelled: OrderCancelled } | { status: OrderStatus | undefined }> {
  const order = await lockOrder(trx, schema, orderId)
  if (order?.status !== 'created') return { status: order?.status }
  const cancelledAt = isoTimestamp()
  await releaseStock(trx, schema, order.items)
  await setStatus(trx, schema, order.id, 'cancelled', { cancelledAt, cancelReason: reason })
  await recordStep(trx, schema, order.id, 'cancelled', { reason })
  return { cancelled: { orderId: order.id, buyerId: order.buyerId, reason, items: order.items, total: order.total, currency: order.currency, cancelledAt } }
}

/** A seller's delivery shipped; when every seller's has, a paid order is fulfilled. */
export async function recordShipment(trx: Knex.Transaction, schema: string, shipped: DeliveryShipped): Promise<OrderFulfilled | undefined> {
  const order = await lockOrder(trx, schema, shipped.orderId)
  if (!order) return undefined
  await trx.withSchema(schema).table('order_shipments')
    .insert({ orderId: order.id, sellerId: shipped.sellerId, deliveryId: shipped.deliveryId, shippedAt: shipped.shippedAt })
    .onConflict(['orderId', 'sellerId']).ignore()
  await recordStep(trx, schema, order.id, 'delivery-shipped', { sellerId: shipped.sellerId, deliveryId: shipped.deliveryId })
  if (order.status !== 'paid') return undefined
  const [{ count }] = await trx.withSchema(schema).table('order_shipments').where({ orderId: order.id }).count({ count: '*' })
  if (Number(count) < new Set(order.sellerIds).size) return undefined
  const fulfilledAt = isoTimestamp()
  await setStatus(trx, schema, order.id, 'fulfilled', { fulfilledAt })
  await recordStep(trx, schema, order.id, 'fulfilled')
  return { orderId: order.id, buyerId: order.buyerId, fulfilledAt }
}
