import type { Migration } from '../../../shared/db/migrations.ts'

/** The orders service's schema: its projection of the catalog, orders and claims. */
export const migrations: Migration[] = [
  {
    name: '001_product_projection',
    async up(db) {
      // Built from product.* events only (consume and project): orders never asks the catalog.
      await db.schema.createTable('products', (t) => {
        t.string('productId', 128).primary()
        t.string('sellerId', 128).notNullable()
        t.string('parentId', 128).nullable()
        t.text('title').notNullable()
        t.text('description').notNullable()
        t.integer('price').notNullable()
        t.string('currency', 3).notNullable()
        /** the stock the catalog last announced */
        t.integer('stock').notNullable()
        /** units ordered here; what can still be ordered is stock - sold */
        t.integer('sold').notNullable().defaultTo(0)
        /** the catalog's version of the product: older events are ignored */
        t.integer('version').notNullable()
        t.timestamp('updatedAt', { useTz: true }).notNullable()
      })
    }
  },
  {
    name: '002_orders_claims',
    async up(db) {
      await db.schema.createTable('orders', (t) => {
        t.uuid('id').primary()
        t.string('buyerId', 128).notNullable().index()
        t.string('status', 32).notNullable()
        /** the order's lines, each with its seller: [{ productId, sellerId, title, unitPrice, quantity }] */
        t.jsonb('items').notNullable()
        /** who sells in this order: a seller reads the orders with their items */
        t.specificType('sellerIds', 'text[]').notNullable()
        t.bigInteger('total').notNullable()
        t.string('currency', 3).notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
      })
      await db.raw('create index orders_seller_ids on orders using gin ("sellerIds")')
      await db.schema.createTable('claims', (t) => {
        t.uuid('id').primary()
        t.uuid('orderId').notNullable().references('id').inTable('orders').index()
        t.string('buyerId', 128).notNullable()
        t.text('reason').notNullable()
        t.string('status', 32).notNullable()
        t.timestamp('openedAt', { useTz: true }).notNullable()
      })
    }
  },
  {
    name: '003_seller_orders',
    async up(db) {
      // A seller's share of each order, as that seller is shown it: their lines and their subtotal as `total`.
      // Sellers' lists filter and sort on this table, so `total` there can never reveal the whole order's total.
      await db.schema.createTable('seller_orders', (t) => {
        t.uuid('id').notNullable().references('id').inTable('orders')
        t.string('sellerId', 128).notNullable()
        t.string('buyerId', 128).notNullable()
        t.string('status', 32).notNullable()
        /** this seller's lines only */
        t.jsonb('items').notNullable()
        /** this seller's subtotal */
        t.bigInteger('total').notNullable()
        t.string('currency', 3).notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.primary(['sellerId', 'id'])
      })
      await db.raw('create index seller_orders_seller_created on seller_orders ("sellerId", "createdAt" desc)')
      // Orders placed before this migration: one row per seller in each, lines in their order.
      await db.raw(`
        insert into seller_orders (id, "sellerId", "buyerId", status, items, total, currency, "createdAt")
        select o.id, line->>'sellerId', o."buyerId", o.status,
               jsonb_agg(line order by position),
               sum((line->>'unitPrice')::bigint * (line->>'quantity')::bigint),
               o.currency, o."createdAt"
        from orders o, jsonb_array_elements(o.items) with ordinality as l(line, position)
        group by o.id, line->>'sellerId'`)
    }
  },
  {
    name: '004_claim_handling',
    async up(db) {
      // Claims are answered by a seller, escalated after CLAIM_RESPONSE_TIMEOUT, closed by the buyer.
      await db.schema.alterTable('claims', (t) => {
        t.text('response').nullable()
        t.timestamp('answeredAt', { useTz: true }).nullable()
        t.timestamp('escalatedAt', { useTz: true }).nullable()
        t.timestamp('closedAt', { useTz: true }).nullable()
      })
    }
  },
  {
    name: '005_ship_to',
    async up(db) {
      // contract.md "Checkout": where an order is delivered; null for a pickup (and for every order before this)
      await db.schema.alterTable('orders', (t) => {
        t.jsonb('shipTo').nullable()
      })
    }
  },
  {
    name: '006_checkout',
    async up(db) {
      // contract.md "Checkout": the order's way from created (stock reserved) to paid, fulfilled or cancelled.
      await db.schema.alterTable('orders', (t) => {
        t.uuid('paymentId').nullable()
        t.timestamp('paidAt', { useTz: true }).nullable()
        t.timestamp('cancelledAt', { useTz: true }).nullable()
        t.string('cancelReason', 32).nullable()
        t.timestamp('fulfilledAt', { useTz: true }).nullable()
      })
      // Units of open orders, reserved until the order is paid (then sold) or cancelled (then released).
      // Orders placed before this migration counted their units as sold at once; they stay so.
      await db.schema.alterTable('products', (t) => {
        t.integer('reserved').notNullable().defaultTo(0)
      })
      // Each seller's delivery that shipped: the order is fulfilled when every seller's has.
      await db.schema.createTable('order_shipments', (t) => {
        t.uuid('orderId').notNullable().references('id').inTable('orders')
        t.string('sellerId', 128).notNullable()
        t.string('deliveryId', 128).notNullable()
        t.timestamp('shippedAt', { useTz: true }).notNullable()
        t.primary(['orderId', 'sellerId'])
      })
      // The process manager's log: every step of an order's checkout, and why (bazaar saga show).
      await db.schema.createTable('checkout_steps', (t) => {
        t.bigIncrements('id')
        t.uuid('orderId').notNullable().references('id').inTable('orders').index()
        t.string('step', 64).notNullable()
        t.jsonb('detail').notNullable()
        t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now())
      })
    }
  }
]
