import type { Migration } from '../../../shared/db/migrations.ts'

/** The fulfilment service's schema: each seller's deliveries and invoices of paid orders, and the invoice counters. */
export const migrations: Migration[] = [
  {
    name: '001_deliveries_invoices',
    async up(db) {
      // One per seller of a paid order, from order.paid. `buyerId` is what order.paid said: it decides who reads the row.
      await db.schema.createTable('deliveries', (t) => {
        t.uuid('id').primary()
        t.string('orderId', 128).notNullable()
        t.string('sellerId', 128).notNullable()
        t.string('buyerId', 128).notNullable()
        t.string('status', 16).notNullable()
        /** null for a pickup */
        t.jsonb('shipTo').nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.timestamp('shippedAt', { useTz: true }).nullable()
        // A second order.paid for the same order (another message id) finds the share taken: no second delivery.
        t.unique(['orderId', 'sellerId'])
      })
      await db.raw(`alter table deliveries add constraint deliveries_status check (status in ('scheduled', 'shipped'))`)
      await db.raw('create index deliveries_seller_created on deliveries ("sellerId", "createdAt" desc)')
      await db.raw('create index deliveries_buyer_created on deliveries ("buyerId", "createdAt" desc)')

      /** The last invoice number issued to each seller: taken (row-locked) in the invoice's own transaction, never a sequence. */
      await db.schema.createTable('invoice_counters', (t) => {
        t.string('sellerId', 128).primary()
        t.integer('issued').notNullable()
      })

      await db.schema.createTable('invoices', (t) => {
        t.uuid('id').primary()
        t.string('orderId', 128).notNullable()
        t.string('sellerId', 128).notNullable()
        t.string('buyerId', 128).notNullable()
        t.integer('number').notNullable()
        /** the seller's lines of the order: [{ productId, sellerId, title, unitPrice, quantity }] */
        t.jsonb('lines').notNullable()
        t.bigInteger('total').notNullable()
        t.string('currency', 3).notNullable()
        t.timestamp('issuedAt', { useTz: true }).notNullable()
        // Second guards behind the inbox and the counter: one invoice per seller's share, one invoice per number.
        t.unique(['orderId', 'sellerId'])
        t.unique(['sellerId', 'number'])
      })
      await db.raw('alter table invoices add constraint invoices_number_positive check (number >= 1)')
      await db.raw('create index invoices_buyer_issued on invoices ("buyerId", "issuedAt" desc)')
    }
  }
]
