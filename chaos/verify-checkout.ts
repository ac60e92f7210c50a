import type { Knex } from 'knex'
import { schemaName } from '../shared/db/database.ts'

/** The checkout's promises, counted from the services' databases and the card provider's own ledger. */
export interface CheckoutVerdict {
  paidOrders: number
  cancelledOrders: number
  captures: number
  refunds: number
  /** an order charged more than once and not refunded down to one */
  doubleCaptures: number
  /** a capture kept (not refunded) whose order is not paid by it */
  capturesWithoutPaidOrder: number
  /** a paid order whose own capture was refunded */
  refundedPaidOrders: number
  /** a payment still pending after everything drained */
  pendingPayments: number
  /** a paid order's seller without an invoice */
  lostInvoices: number
  /** sellers whose invoice numbers are not exactly 1..N */
  sellersWithNumberingGaps: number
  /** products whose reserved or sold units disagree with the orders holding them, or whose catalog count does */
  stockMismatches: number
  /** orders still waiting for a payment long after their deadline */
  ordersPastDeadline: number
  details: string[]
}

interface Line { productId: string; quantity: number }

export async function verifyCheckout(db: Knex, namespace: string, paymentTimeoutMs: number): Promise<CheckoutVerdict> {
  const schema = (service: string) => schemaName(namespace, service)
  const details: string[] = []
  const orders: Array<{ id: string; status: string; paymentId: string | null; items: Line[]; sellerIds: string[]; createdAt: Date }> =
    await db.withSchema(schema('orders')).table('orders').select('id', 'status', 'paymentId', 'items', 'sellerIds', 'createdAt')
  const payments: Array<{ id: string; orderId: string; status: string }> = await db.withSchema(schema('payments')).table('payments').select('id', 'orderId', 'status')
  const charges: Array<{ id: string; idempotencyKey: string; status: string }> = await db.withSchema(schema('card_provider')).table('charges').select('id', 'idempotencyKey', 'status')
  const refunds: Array<{ chargeId: string }> = await db.withSchema(schema('card_provider')).table('refunds').select('chargeId')
  const invoices: Array<{ orderId: string; sellerId: string; number: number }> = await db.withSchema(schema('fulfilment')).table('invoices').select('orderId', 'sellerId', 'number')

  const paymentById = new Map(payments.map((p) => [p.id, p]))
  const orderById = new Map(orders.map((o) => [o.id, o]))
  const refunded = new Set(refunds.map((r) => r.chargeId))
  const paid = orders.filter((o) => o.status === 'paid' || o.status === 'fulfilled')
  const note = (line: string) => { if (details.length < 50) details.push(line) }

  // captures kept, per order (the provider's word; a payment's id is its charge's idempotency key)
  const kept = new Map<string, string[]>()
  let capturesWithoutPaidOrder = 0
  let refundedPaidOrders = 0
  const captured = charges.filter((c) => c.status === 'captured')
  for (const charge of captured) {
    const payment = paymentById.get(charge.idempotencyKey)
    if (!payment) continue // a plan's renewal, not an order's payment
    const order = orderById.get(payment.orderId)
    const paidBy = order && (order.status === 'paid' || order.status === 'fulfilled') ? order.paymentId : null
    if (refunded.has(charge.id)) {
      if (paidBy === payment.id) { refundedPaidOrders += 1; note(`order ${payment.orderId} is paid by payment ${payment.id}, whose capture was refunded`) }
      continue
    }
    kept.set(payment.orderId, [...(kept.get(payment.orderId) ?? []), payment.id])
    if (paidBy !== payment.id) { capturesWithoutPaidOrder += 1; note(`capture of payment ${payment.id} kept, but order ${payment.orderId} is ${order?.status ?? 'unknown'} (paid by ${paidBy ?? 'none'})`) }
  }
  let doubleCaptures = 0
  for (const [orderId, kept1] of kept) if (kept1.length > 1) { doubleCaptures += kept1.length - 1; note(`order ${orderId} captured ${kept1.length} times`) }

  const pendingPayments = payments.filter((p) => p.status === 'pending').length
  if (pendingPayments) note(`${pendingPayments} payment(s) still pending`)

  const invoiced = new Set(invoices.map((i) => `${i.orderId}/${i.sellerId}`))
  let lostInvoices = 0
  for (const order of paid) {
    for (const sellerId of new Set(order.sellerIds)) if (!invoiced.has(`${order.id}/${sellerId}`)) { lostInvoices += 1; note(`paid order ${order.id} has no invoice from seller ${sellerId}`) }
  }
  const numbers = new Map<string, number[]>()
  for (const invoice of invoices) numbers.set(invoice.sellerId, [...(numbers.get(invoice.sellerId) ?? []), invoice.number])
  let sellersWithNumberingGaps = 0
  for (const [sellerId, list] of numbers) {
    const sorted = [...list].sort((a, b) => a - b)
    if (sorted.some((n, i) => n !== i + 1)) { sellersWithNumberingGaps += 1; note(`seller ${sellerId}'s invoice numbers are not 1..${sorted.length}`) }
  }

  // stock: what the orders hold, against orders' reservations and sales and the catalog's count
  const expected = new Map<string, { reserved: number; sold: number; ordered: number }>()
  for (const order of orders) {
    for (const line of order.items) {
      const e = expected.get(line.productId) ?? { reserved: 0, sold: 0, ordered: 0 }
      if (order.status === 'created') e.reserved += line.quantity
      if (order.status === 'paid' || order.status === 'fulfilled') e.sold += line.quantity
      if (order.status !== 'cancelled') e.ordered += line.quantity
      expected.set(line.productId, e)
    }
  }
  let stockMismatches = 0
  const projected: Array<{ productId: string; reserved: number; sold: number }> = await db.withSchema(schema('orders')).table('products').select('productId', 'reserved', 'sold')
  const catalog: Array<{ id: string; ordered: number; stock: number }> = await db.withSchema(schema('catalog')).table('products').select('id', 'ordered', 'stock')
  const catalogById = new Map(catalog.map((p) => [p.id, p.ordered]))
  // never sold beyond its stock (the load gives each seller one scarce product, so some orders meet the limit)
  for (const product of catalog) {
    const ordered = expected.get(product.id)?.ordered ?? 0
    if (ordered > product.stock) { stockMismatches += 1; note(`product ${product.id}: ${ordered} units held by orders, stock ${product.stock}`) }
  }
  for (const product of projected) {
    const e = expected.get(product.productId) ?? { reserved: 0, sold: 0, ordered: 0 }
    const inCatalog = catalogById.get(product.productId)
    if (product.reserved !== e.reserved || product.sold !== e.sold || (inCatalog !== undefined && inCatalog !== e.ordered)) {
      stockMismatches += 1
      note(`product ${product.productId}: reserved ${product.reserved}/${e.reserved}, sold ${product.sold}/${e.sold}, catalog ordered ${inCatalog}/${e.ordered}`)
    }
  }
  const overdue = Date.now() - paymentTimeoutMs - 30_000
  const ordersPastDeadline = orders.filter((o) => o.status === 'created' && new Date(o.createdAt).getTime() < overdue).length
  if (ordersPastDeadline) note(`${ordersPastDeadline} order(s) still waiting for a payment well after their deadline`)

  return {
    paidOrders: paid.length,
    cancelledOrders: orders.filter((o) => o.status === 'cancelled').length,
    captures: captured.length,
    refunds: refunds.length,
    doubleCaptures,
    capturesWithoutPaidOrder,
    refundedPaidOrders,
    pendingPayments,
    lostInvoices,
    sellersWithNumberingGaps,
    stockMismatches,
    ordersPastDeadline,
    details
  }
}

export function checkoutPassed(v: CheckoutVerdict): boolean {
  return v.doubleCaptures === 0 && v.capturesWithoutPaidOrder === 0 && v.refundedPaidOrders === 0 && v.pendingPayments === 0 &&
    v.lostInvoices === 0 && v.sellersWithNumberingGaps === 0 && v.stockMismatches === 0 && v.ordersPastDeadline === 0
}
