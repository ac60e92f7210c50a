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
  },
  {
    name: '003_record_events',
    async up(db) {
      // Recording in one round trip: events already recorded (by another instance's live feed, or by
      // this instance's other path) are only read; the missing ones are inserted under a transaction-
      // scoped advisory lock, with ids max(id) + n computed after the lock is held (each statement of a
      // plpgsql function takes a fresh snapshot), so recorders queue on the lock instead of colliding on
      // the primary key and retrying, and an id still only becomes visible after every lower id has
      // committed. The lock is released at commit, after the rows are visible.
      await db.raw(`
        create function record_events(batch jsonb) returns table (id bigint, message_id text)
        language plpgsql volatile set search_path from current as $$
        begin
          if exists (select 1 from jsonb_to_recordset(batch) as x(message_id text)
                     where not exists (select 1 from events e where e.message_id = x.message_id)) then
            perform pg_advisory_xact_lock(1734700901, hashtext(current_schema()));
            insert into events (id, message_id, routing_key, payload, audiences, seller_id, order_id)
            select (select coalesce(max(e.id), 0) from events e) + row_number() over (order by x.ord),
                   x.message_id, x.routing_key, x.payload, x.audiences, x.seller_id, x.order_id
            from jsonb_to_recordset(batch) as x(ord int, message_id text, routing_key text, payload jsonb, audiences text[], seller_id text, order_id text)
            where not exists (select 1 from events e where e.message_id = x.message_id)
            on conflict on constraint events_message_id_unique do nothing;
          end if;
          return query select e.id, e.message_id::text from events e
            join jsonb_to_recordset(batch) as x(message_id text) on e.message_id = x.message_id;
        end
        $$`)
    }
  },
  {
    name: '004_history_index_lookups',
    async up(db) {
      // 003 joined the batch (jsonb_to_recordset, which the planner takes for 100 rows) against `events`,
      // and the plan PL/pgSQL cached while the table was small hashed the whole table: every call read all
      // of `events`, so recording (and with it every push) grew slower as the history grew. Here the batch's
      // ids are put in an array, every lookup is `message_id = any(ids)`, and the function plans without
      // sequential scans: a plan cached on a new, empty history must still probe the index once it is large.
      await db.raw(`
        create or replace function record_events(batch jsonb) returns table (id bigint, message_id text)
        language plpgsql volatile set search_path from current set enable_seqscan = off as $$
        declare
          wanted text[] := array(select x.message_id from jsonb_to_recordset(batch) as x(message_id text));
          known text[];
        begin
          known := array(select e.message_id::text from events e where e.message_id = any(wanted));
          if exists (select 1 from unnest(wanted) as w(m) where not (w.m = any(known))) then
            perform pg_advisory_xact_lock(1734700901, hashtext(current_schema()));
            -- read again under the lock (a fresh snapshot): another recorder may have committed them meanwhile
            known := array(select e.message_id::text from events e where e.message_id = any(wanted));
            insert into events (id, message_id, routing_key, payload, audiences, seller_id, order_id)
            select (select coalesce(max(e.id), 0) from events e) + row_number() over (order by x.ord),
                   x.message_id, x.routing_key, x.payload, x.audiences, x.seller_id, x.order_id
            from jsonb_to_recordset(batch) as x(ord int, message_id text, routing_key text, payload jsonb, audiences text[], seller_id text, order_id text)
            where not (x.message_id = any(known))
            on conflict on constraint events_message_id_unique do nothing;
          end if;
          return query select e.id, e.message_id::text from events e where e.message_id = any(wanted);
        end
        $$`)
      // An acknowledgement checks that the order was its seller's: one probe, not a walk through the seller's orders.
      await db.raw("create index events_seller_order_ids on events (seller_id, order_id) where routing_key = 'order.created'")
    }
  },
  {
    name: '005_session_revocations',
    async up(db) {
      // From user.sessions_revoked: each user's lowest valid session version (versions only grow), which
      // every gateway instance loads at start and is notified of.
      await db.schema.createTable('session_revocations', (t) => {
        t.string('user_id', 64).primary()
        t.integer('session_version').notNullable()
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now())
        t.index(['updated_at'])
      })
    }
  }
]
