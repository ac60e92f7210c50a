import type { Migration } from '../db/migrations.ts'

/**
 * The parked keys of partitioned consumers, in every service schema (part of
 * `busMigrations`): one row per parked key, and its messages in arrival order.
 */
export const parkMigrations: Migration[] = [
  {
    name: '001_bus_parked_keys',
    async up(db) {
      await db.schema.createTable('parked_keys', (t) => {
        // the consumer's queue name, e.g. `bazaar.notifications.claims`
        t.string('consumer', 255).notNullable()
        t.string('key', 512).notNullable()
        t.integer('partition').notNullable()
        /** retries of the head message since it became the head */
        t.integer('attempts').notNullable().defaultTo(0)
        t.timestamp('parked_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.timestamp('next_retry_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.text('last_error')
        t.primary(['consumer', 'key'])
        t.index(['consumer', 'next_retry_at'])
      })
      await db.schema.createTable('parked_messages', (t) => {
        // arrival order of a key's messages: the order they are drained in
        t.bigIncrements('id').primary()
        t.string('consumer', 255).notNullable()
        t.string('key', 512).notNullable()
        t.string('message_id', 128).notNullable()
        t.string('routing_key', 255).notNullable()
        t.string('exchange', 255).notNullable()
        t.binary('body').notNullable()
        t.jsonb('properties').notNullable()
        t.timestamp('parked_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        // a redelivered message that is already parked is not parked twice
        t.unique(['consumer', 'message_id'])
        t.index(['consumer', 'key', 'id'])
      })
    }
  }
]
