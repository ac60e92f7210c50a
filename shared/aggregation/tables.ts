import type { Migration } from '../db/migrations.ts'

/** The aggregation's counter rows, for a service that fans a batch out to competing consumers. */
export const aggregationMigration: Migration = {
  name: '021_aggregations',
  async up(db) {
    await db.raw(`
      create table aggregations (
        id uuid primary key,
        -- items (messages) to process, and units (rows) they carry: done + failed = total at the end
        items_total integer not null check (items_total >= 0),
        items_done integer not null default 0,
        total integer not null check (total >= 0),
        done integer not null default 0,
        failed integer not null default 0,
        policy text not null check (policy in ('continue', 'stop')),
        state text not null default 'open' check (state in ('open', 'completed', 'stopped', 'expired', 'cancelled')),
        deadline_at timestamptz not null,
        -- the last progress notice: the rate limit is kept here, in the counter's own transaction
        progress_at timestamptz,
        created_at timestamptz not null default now(),
        completed_at timestamptz
      )`)
  }
}

/** A batch whose feeding job failed is closed `failed` (its missing units counted failed, as at the deadline). */
export const aggregationFailedMigration: Migration = {
  name: '023_aggregation_failed',
  async up(db) {
    await db.raw('alter table aggregations drop constraint aggregations_state_check')
    await db.raw(`alter table aggregations add constraint aggregations_state_check check (state in ('open', 'completed', 'stopped', 'expired', 'cancelled', 'failed'))`)
  }
}
