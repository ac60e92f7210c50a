import type { Migration } from '../../../shared/db/migrations.ts'

/** The payments service's schema: its projection of orders, and payments. */
export const migrations: Migration[] = [
  {
    name: '001_orders_payments',
    async up(db) {
      // Built from order.placed / order.paid / order.cancelled only: payments never asks the orders service.
      await db.schema.createTable('orders', (t) => {
        t.uuid('orderId').primary()
        t.string('buyerId', 128).notNullable()
        /** the order's total, what its payment charges (minor units) */
        t.bigInteger('amount').notNullable()
        t.string('currency', 3).notNullable()
        /** open -> paid or cancelled; cancelled is final */
        t.string('status', 16).notNullable()
        /** the payment order.paid named: a capture by any other payment of the order is refunded */
        t.uuid('paidPaymentId').nullable()
      })
      await db.schema.createTable('payments', (t) => {
        t.uuid('id').primary()
        t.uuid('orderId').notNullable().index()
        t.string('buyerId', 128).notNullable()
        t.bigInteger('amount').notNullable()
        t.string('currency', 3).notNullable()
        /** the card token the charge job charges; never shown */
        t.string('token', 64).notNullable()
        /** pending -> captured (-> refunded) or failed */
        t.string('status', 16).notNullable()
        t.string('reason', 64).nullable()
        /** the buyer's Idempotency-Key, unique per buyer */
        t.string('idempotencyKey', 255).nullable()
        t.string('chargeId', 64).nullable()
        t.string('refundId', 64).nullable()
        /** set (under the row lock) when the refund job is scheduled: a capture is refunded once */
        t.timestamp('refundRequestedAt', { useTz: true }).nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.timestamp('settledAt', { useTz: true }).nullable()
      })
      await db.raw('create unique index payments_buyer_idempotency_key on payments ("buyerId", "idempotencyKey") where "idempotencyKey" is not null')
      // The last guard of "at most one live payment per order": the request locks the order row first, so this
      // never fires in practice, but no code path can make two pending/captured payments for one order.
      await db.raw(`create unique index payments_one_live_per_order on payments ("orderId") where status in ('pending', 'captured')`)
      await db.raw('create index payments_buyer_created on payments ("buyerId", "createdAt" desc)')
    }
  }
]
