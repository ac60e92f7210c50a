import type { Migration } from '../db/migrations.ts'

/**
 * What `bazaar trace <request-id>` reads, in every service schema (part of `busMigrations`):
 * - `outbox.trace_context`: the W3C `traceparent` of the outbox write, stored on the row so that the relay's
 *   send span can link to it (the same value travels in the message's `traceparent` header);
 * - `event_log`: one row per relayed event that a request caused (it has an `x-request-id`), written by the
 *   relay's claim statement itself, with its ids and its times (written, relayed);
 * - `message_outcomes`: what a consumer did with a delivery other than handle it (retried, dead-lettered,
 *   skipped as a duplicate); a handled delivery is already recorded by its inbox row.
 * Rows older than the inbox's retention are swept with it (InboxJanitor).
 */
export const traceMigrations: Migration[] = [
  {
    name: '002_bus_trace_record',
    async up(db) {
      await db.schema.alterTable('outbox', (t) => {
        t.string('trace_context', 64)
      })
      await db.schema.createTable('event_log', (t) => {
        t.string('message_id', 64).primary()
        t.string('routing_key', 255).notNullable()
        t.string('request_id', 128).notNullable().index()
        t.string('causation_id', 128)
        t.string('correlation_id', 128)
        /** the service that wrote it */
        t.string('app_id', 255)
        t.string('trace_context', 64)
        t.timestamp('created_at', { useTz: true }).notNullable()
        t.timestamp('relayed_at', { useTz: true }).notNullable().defaultTo(db.fn.now()).index()
      })
      await db.schema.createTable('message_outcomes', (t) => {
        t.bigIncrements('id').primary()
        /** the consumer's purpose (retried, dead-lettered, parked) or its inbox name (duplicate): by convention the same */
        t.string('consumer', 255).notNullable()
        t.string('message_id', 128).notNullable().index()
        t.string('request_id', 128).index()
        t.string('routing_key', 255).notNullable()
        /** retried | dead-lettered | duplicate */
        t.string('outcome', 32).notNullable()
        t.integer('attempt')
        t.text('error')
        t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now()).index()
      })
    }
  }
]
