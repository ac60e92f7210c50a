import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { writeOutbox, type OutboxIdentity } from '../../../shared/bus/outbox.ts'
import { DELIVERY_SCHEDULED, INVOICE_ISSUED, ORDER_PAID, type OrderPaid, type SellerShare } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'
import { takeInvoiceNumber } from '../invoice-numbers.ts'
import { checkedShares } from '../shares.ts'
import { orderEvents } from '../topology.ts'

/**
 * order.paid: each seller of the order gets a scheduled delivery and an invoice with their next number,
 * and delivery.scheduled and invoice.issued are written to the outbox, all in one transaction with the
 * inbox row. A redelivery finds the inbox row and does nothing; a second order.paid for the same order
 * under another message id finds each share's delivery already there and skips that share before
 * taking a number, so it neither issues a second invoice nor burns one.
 *
 * The deliveries come first and the invoices last: a seller's counter row stays locked from its number
 * until the commit, and every other invoice of that seller waits on it, so the transaction does as
 * little as it can after taking the first number.
 */
export function orderEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const logger = app.get('logger')
  const identity: OutboxIdentity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  const fulfil = idempotent<typeof ORDER_PAID>(
    { db: app.get('db'), schema, consumer: orderEvents.purpose, logger },
    async (message: Envelope<typeof ORDER_PAID>, trx: Knex.Transaction) => {
      const order = message.payload
      const scheduled: SellerShare[] = []
      for (const share of checkedShares(order)) {
        if (await scheduleDelivery(trx, identity, order, share)) scheduled.push(share)
        else logger.warn({ orderId: order.orderId, sellerId: share.sellerId }, 'order.paid for a share already fulfilled (another message id): skipped')
      }
      // in sellerId order, as checkedShares() sorted them: two orders never lock two counters in opposite orders
      for (const share of scheduled) await issueInvoice(trx, identity, order, share)
    }
  )
  app.get('bus').consumer({ ...orderEvents, handlers: { [ORDER_PAID]: fulfil } })
}

/** The share's delivery and its delivery.scheduled; false when the share has one already (its (orderId, sellerId) key). */
async function scheduleDelivery(trx: Knex.Transaction, identity: OutboxIdentity, order: OrderPaid, share: SellerShare): Promise<boolean> {
  const parties = { orderId: order.orderId, sellerId: share.sellerId, buyerId: order.buyerId }
  const scheduledAt = isoTimestamp()
  const inserted: Array<{ id: string }> = await trx
    .withSchema(identity.schema)
    .table('deliveries')
    .insert({ id: randomUUID(), ...parties, status: 'scheduled', shipTo: order.shipTo && JSON.stringify(order.shipTo), createdAt: scheduledAt })
    .onConflict(['orderId', 'sellerId'])
    .ignore()
    .returning('id')
  if (!inserted[0]) return false
  await writeOutbox(trx, identity, DELIVERY_SCHEDULED, { deliveryId: inserted[0].id, ...parties, shipTo: order.shipTo, scheduledAt })
  return true
}

/** The share's invoice with the seller's next number, and its invoice.issued. */
async function issueInvoice(trx: Knex.Transaction, identity: OutboxIdentity, order: OrderPaid, share: SellerShare): Promise<void> {
  const number = await takeInvoiceNumber(trx, identity.schema, share.sellerId)
  // Stamped once the number is ours: a seller's invoices are issued in number order.
  const invoice = {
    id: randomUUID(),
    orderId: order.orderId,
    sellerId: share.sellerId,
    buyerId: order.buyerId,
    number,
    lines: share.items,
    total: share.total,
    currency: order.currency,
    issuedAt: isoTimestamp()
  }
  await trx.withSchema(identity.schema).table('invoices').insert({ ...invoice, lines: JSON.stringify(invoice.lines) })
  const { id: invoiceId, ...issued } = invoice
  await writeOutbox(trx, identity, INVOICE_ISSUED, { invoiceId, ...issued })
}
