import type { Migration } from '../../../shared/db/migrations.ts'

/**
 * The storefront projection. Every row carries the projection `version` it
 * belongs to, so a rebuild fills a new version beside the live one and the
 * swap is one update of `projections`; a read takes the live version in the
 * same statement as the rows (one snapshot).
 */
export const migrations: Migration[] = [
  {
    name: '001_projections',
    async up(db) {
      await db.schema.createTable('projections', (t) => {
        t.string('name', 64).notNullable()
        t.integer('version').notNullable()
        /** building (a rebuild reading the log from the start), live (answers reads), retired, failed */
        t.string('state', 16).notNullable()
        /** the offset of the last log entry applied, in the same transaction as its writes; -1 before the first */
        t.bigInteger('position').notNullable().defaultTo(-1)
        /** when the broker received the entry at `position` (its AMQP timestamp) */
        t.timestamp('positionAt', { useTz: true }).nullable()
        /** entries not applied: not an event of the contracts, or against its contract (logged with the reason) */
        t.integer('skipped').notNullable().defaultTo(0)
        t.text('reason').nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.timestamp('updatedAt', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.timestamp('liveAt', { useTz: true }).nullable()
        t.primary(['name', 'version'])
      })
      // one live and one building version of a projection at most
      await db.raw(`create unique index projections_one_live on projections (name) where state = 'live'`)
      await db.raw(`create unique index projections_one_building on projections (name) where state = 'building'`)

      await db.schema.createTable('storefronts', (t) => {
        t.integer('version').notNullable()
        t.string('sellerId', 128).notNullable()
        /** null until the user's user.* event is in the log */
        t.text('name').nullable()
        t.string('role', 16).nullable()
        /** the user event's version when it has one: an older one never overwrites a newer */
        t.integer('userVersion').notNullable().defaultTo(0)
        t.integer('productCount').notNullable().defaultTo(0)
        t.integer('orderCount').notNullable().defaultTo(0)
        /** the 50 newest products as the API lists them, rewritten in the batch that changed one: a read is one row */
        t.jsonb('products').notNullable().defaultTo('[]')
        t.primary(['version', 'sellerId'])
      })
      await db.schema.createTable('storefront_products', (t) => {
        t.integer('version').notNullable()
        t.string('productId', 128).notNullable()
        t.string('sellerId', 128).notNullable()
        t.text('title').notNullable()
        t.integer('price').notNullable()
        t.string('currency', 3).notNullable()
        t.integer('stock').notNullable()
        /** the product's own version: a late or repeated event never rolls it back */
        t.integer('productVersion').notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.primary(['version', 'productId'])
      })
      await db.raw('create index storefront_products_newest on storefront_products (version, "sellerId", "createdAt" desc, "productId")')
      // one row per (seller, order): a repeated order.created counts once
      await db.schema.createTable('storefront_orders', (t) => {
        t.integer('version').notNullable()
        t.string('sellerId', 128).notNullable()
        t.string('orderId', 128).notNullable()
        t.primary(['version', 'sellerId', 'orderId'])
      })
    }
  }
]
