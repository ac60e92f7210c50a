import type { Migration } from '../db/migrations.ts'
import { parkMigrations } from './park-table.ts'
import { traceMigrations } from './trace-table.ts'

/** Tables every publishing or consuming service has in its own schema. */
export const busMigrations: Migration[] = [
  {
    name: '000_bus_outbox_inbox',
    async up(db) {
      await db.schema.createTable('outbox', (t) => {
        // Relayed in id order; rows of the same aggregate are serialised by its row lock, so id order is their commit order.
        t.bigIncrements('id').primary()
        t.string('message_id', 64).notNullable().unique()
        t.string('routing_key', 255).notNullable()
        t.jsonb('payload').notNullable()
        t.jsonb('properties').notNullable()
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
      })
      await db.schema.createTable('inbox', (t) => {
        t.string('consumer', 255).notNullable()
        t.string('message_id', 128).notNullable()
        t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.primary(['consumer', 'message_id'])
        t.index(['processed_at'])
      })
    }
  },
  {
    name: '000_bus_outbox_vacuum',
    async up(db) {
      // Every row is deleted soon after it is written: a queue table. Vacuumed by row count, not by a share
      // of a table that is nearly always empty, so its dead rows are cleared on every autovacuum round.
      await db.raw('alter table outbox set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000)')
    }
  },
  ...parkMigrations,
  ...traceMigrations,
  {
    name: '003_bus_outbox_batches',
    async up(db) {
      // A batch row (writeOutboxMany): one row standing for many messages, published in their order at its
      // place in id order, each with its own message id and properties. `json`, not `jsonb`: the relay only
      // reads it back whole, so the server keeps the text instead of converting hundreds of events.
      await db.raw('alter table outbox add column messages json')
    }
  }
]
