import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_appliances',
    async up(db) {
      await db.schema.createTable('appliances', (t) => {
        t.uuid('id').primary()
        t.string('seller_id', 64).notNullable().index()
        t.string('name', 200).notNullable()
        // sha-256 of the token: the token itself is shown once and never stored
        t.string('token_hash', 64).notNullable().unique()
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.timestamp('revoked_at', { useTz: true })
      })
    }
  },
  {
    name: '002_event_history',
    async up(db) {
      // Shared by every gateway instance: ids are assigned here, so all instances agree on them.
      await db.schema.createTable('events', (t) => {
        t.bigInteger('id').primary()
        t.string('message_id', 128).notNullable().unique()
        t.string('routing_key', 255).notNullable()
        t.jsonb('payload').notNullable()
        t.specificType('audiences', 'text[]').notNullable()
        t.string('seller_id', 64)
        t.string('order_id', 64)
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.index(['created_at'])
      })
      await db.raw('create index events_audiences on events using gin (audiences)')
      await db.raw("create index events_seller_orders on events (seller_id, id) where routing_key = 'order.created'")
      await db.schema.createTable('receipts', (t) => {
        t.uuid('appliance_id').notNullable().references('id').inTable('appliances').onDelete('CASCADE')
        t.string('order_id', 64).notNullable()
        t.timestamp('acked_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.primary(['appliance_id', 'order_id'])
        t.index(['acked_at'])
      })
      await db.schema.createTable('maintenance_notices', (t) => {
        t.string('id', 128).primary()
        t.text('message')
        t.timestamp('starts_at', { useTz: true })
        t.timestamp('ends_at', { useTz: true })
        t.bigInteger('event_id')
        t.timestamp('cancelled_at', { useTz: true })
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
      })
    }
  }
]
