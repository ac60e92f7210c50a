import type { Knex } from 'knex'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'

/** An order as payments knows it, from order.placed / order.paid / order.cancelled. */
export interface OrderRow {
  orderId: string
  buyerId: string
  amount: number
  currency: string
  status: 'open' | 'paid' | 'cancelled'
  paidPaymentId: string | null
}

export type PaymentStatus = 'pending' | 'captured' | 'failed' | 'refunded'

export interface PaymentRow {
  id: string
  orderId: string
  buyerId: string
  amount: number
  currency: string
  token: string
  status: PaymentStatus
  reason: string | null
  idempotencyKey: string | null
  chargeId: string | null
  refundId: string | null
  refundRequestedAt: Date | null
  createdAt: Date
  settledAt: Date | null
}

/** The refund job's name; its key is `refund-<paymentId>`, as is the provider's idempotency key for it. */
export const REFUND_JOB = 'refund'
export const refundKey = (paymentId: string) => `refund-${paymentId}`

const asOrder = (row: Record<string, unknown> | undefined): OrderRow | undefined => row && ({ ...(row as unknown as OrderRow), amount: Number(row.amount) })
const asPayment = (row: Record<string, unknown> | undefined): PaymentRow | undefined => row && ({ ...(row as unknown as PaymentRow), amount: Number(row.amount) })

export const ordersTable = (db: Knex | Knex.Transaction, schema: string) => db.withSchema(schema).table('orders')
export const paymentsTable = (db: Knex | Knex.Transaction, schema: string) => db.withSchema(schema).table('payments')

/**
 * Every writer that decides on an order's payments (the request, the charge job, the order-events consumer)
 * locks the order's row first, then payment rows: they serialize per order, in one lock order, so whichever of a
 * capture and a cancellation commits second sees the other.
 */
export async function lockOrder(trx: Knex.Transaction, schema: string, orderId: string): Promise<OrderRow | undefined> {
  return asOrder(await ordersTable(trx, schema).where({ orderId }).forUpdate().first())
}

export async function readOrder(db: Knex | Knex.Transaction, schema: string, orderId: string): Promise<OrderRow | undefined> {
  return asOrder(await ordersTable(db, schema).where({ orderId }).first())
}

export async function readPayment(db: Knex | Knex.Transaction, schema: string, id: string, lock = false): Promise<PaymentRow | undefined> {
  const query = paymentsTable(db, schema).where({ id })
  return asPayment(await (lock ? query.forUpdate() : query).first())
}

export async function livePaymentOf(trx: Knex.Transaction, schema: string, orderId: string): Promise<PaymentRow | undefined> {
  return asPayment(await paymentsTable(trx, schema).where({ orderId }).whereIn('status', ['pending', 'captured']).first())
}

export async function paymentByKey(db: Knex | Knex.Transaction, schema: string, buyerId: string, idempotencyKey: string): Promise<PaymentRow | undefined> {
  return asPayment(await paymentsTable(db, schema).where({ buyerId, idempotencyKey }).first())
}

/** Whether a capture of this payment must be given back: its order was cancelled, or paid by another payment. */
export function captureUnwanted(order: OrderRow | undefined, paymentId: string): boolean {
  if (!order) return false
  return order.status === 'cancelled' || (order.status === 'paid' && order.paidPaymentId !== null && order.paidPaymentId !== paymentId)
}

/**
 * Schedules the one refund of a captured payment, under its row lock (the caller holds it): `refundRequestedAt`
 * is set once, so a capture is refunded once whichever of the capture and the cancellation came second.
 */
export async function requestRefund(app: ServiceApp, trx: Knex.Transaction, payment: PaymentRow): Promise<void> {
  if (payment.status !== 'captured' || payment.refundRequestedAt) return
  const schema = app.get('schema')
  await paymentsTable(trx, schema).where({ id: payment.id }).update({ refundRequestedAt: trx.fn.now() })
  await app.get('jobs').schedule(trx, REFUND_JOB, { key: refundKey(payment.id), payload: { paymentId: payment.id }, onConflict: 'keep' })
}

/** Refunds every capture of the order that is not the one paying it (`keep`), each once; the order's row is locked. */
export async function refundCapturesOf(app: ServiceApp, trx: Knex.Transaction, orderId: string, keep: string | null): Promise<void> {
  const schema = app.get('schema')
  const rows = await paymentsTable(trx, schema).where({ orderId, status: 'captured' }).whereNull('refundRequestedAt').orderBy('id').forUpdate()
  for (const row of rows) {
    const payment = asPayment(row)!
    if (payment.id !== keep) await requestRefund(app, trx, payment)
  }
}

/** What every payment.* event says about its payment. */
export const partiesOf = (payment: PaymentRow) => ({
  paymentId: payment.id,
  orderId: payment.orderId,
  buyerId: payment.buyerId,
  amount: payment.amount,
  currency: payment.currency
})
