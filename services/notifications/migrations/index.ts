import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_notifications',
    async up(db) {
      await db.schema.createTable('notifications', (t) => {
        t.uuid('id').primary()
        t.string('userId', 64).notNullable()
        t.string('kind', 32).notNullable()
        t.string('to', 254).notNullable()
        t.string('subject', 255).notNullable()
        t.timestamp('sentAt', { useTz: true }).notNullable()
        t.index(['userId', 'sentAt'])
      })
    }
  },
  {
    name: '002_users_seller_orders_digests',
    async up(db) {
      // What notifications knows of users, from user.* (consume and project): admins to tell of
      // escalated claims, sellers and their time zones for the digest.
      await db.schema.createTable('users', (t) => {
        t.string('id', 64).primary()
        t.string('email', 254).notNullable()
        t.string('name', 100).notNullable()
        t.string('role', 16).notNullable()
        t.string('timeZone', 64).notNullable()
        /** when the event it was last written from happened: an older event never overwrites a newer one */
        t.timestamp('updatedAt', { useTz: true }).notNullable()
        t.index(['role', 'timeZone'])
      })
      // Each seller's share of each order, from order.created: what a digest lists.
      await db.schema.createTable('seller_orders', (t) => {
        t.string('sellerId', 64).notNullable()
        t.string('orderId', 64).notNullable()
        t.jsonb('items').notNullable()
        t.bigInteger('total').notNullable()
        t.string('currency', 3).notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.primary(['sellerId', 'orderId'])
        t.index(['sellerId', 'createdAt'])
      })
      // One row per digest enqueued: the key (seller, local date) that makes a second fire, a second
      // instance or a retried job enqueue nothing.
      await db.schema.createTable('digests', (t) => {
        t.string('sellerId', 64).notNullable()
        t.date('localDate').notNullable()
        t.string('timeZone', 64).notNullable()
        t.integer('orderCount').notNullable()
        t.timestamp('enqueuedAt', { useTz: true }).notNullable().defaultTo(db.raw('now()'))
        t.primary(['sellerId', 'localDate'])
      })
    }
  }
]
