import type { Migration } from '../db/migrations.ts'

/**
 * Tables every service has in its own schema (appended to the migrations by
 * createServiceApp, like busMigrations): delayed jobs, recurring schedules and
 * the record of each schedule's fires.
 */
export const jobMigrations: Migration[] = [
  {
    name: '010_jobs_schedules',
    async up(db) {
      await db.raw(`
        create table jobs (
          id uuid primary key,
          name text not null,
          key text,
          payload jsonb not null,
          state text not null default 'pending' check (state in ('pending', 'done', 'failed', 'cancelled')),
          -- when it may run next (moved on by retries); due_at is when it was first due, for lateness
          run_at timestamptz not null,
          due_at timestamptz not null,
          attempts integer not null default 0,
          last_error text,
          schedule_name text,
          created_at timestamptz not null default now(),
          finished_at timestamptz
        )`)
      // the claim reads pending rows in due order; everything else is history
      await db.raw(`create index jobs_due on jobs (run_at) where state = 'pending'`)
      // a key is unique among pending jobs of a name: the same key twice is replaced, kept or refused, never doubled
      await db.raw(`create unique index jobs_pending_key on jobs (name, key) where state = 'pending' and key is not null`)
      await db.raw(`create index jobs_schedule_pending on jobs (schedule_name) where state = 'pending' and schedule_name is not null`)
      await db.raw(`create index jobs_finished on jobs (finished_at) where state <> 'pending'`)
      await db.raw(`
        create table schedules (
          name text primary key,
          job text not null,
          cron text,
          interval_ms bigint,
          time_zone text not null default 'UTC',
          payload jsonb,
          overlap text not null default 'skip' check (overlap in ('skip', 'queue-one', 'allow')),
          catch_up text not null default 'once' check (catch_up in ('skip', 'once', 'within')),
          catch_up_within_ms bigint,
          paused boolean not null default false,
          next_due_at timestamptz,
          last_fire_at timestamptz,
          updated_at timestamptz not null default now(),
          check ((cron is null) <> (interval_ms is null))
        )`)
      await db.raw(`create index schedules_due on schedules (next_due_at) where not paused`)
      // one row per (schedule, due time): a fire happens once whoever fires it, whatever restarts
      await db.raw(`
        create table schedule_fires (
          schedule text not null,
          due_at timestamptz not null,
          job_id uuid,
          outcome text not null check (outcome in ('queued', 'skipped-overlap', 'skipped-catch-up', 'triggered')),
          fired_at timestamptz not null default now(),
          primary key (schedule, due_at)
        )`)
      for (const table of ['jobs', 'schedule_fires']) {
        // queue-like tables: vacuumed by row count, not by a share of the table
        await db.raw(`alter table ${table} set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000)`)
      }
    }
  },
  {
    name: '011_jobs_cancels',
    async up(db) {
      // A cancel of a job a runner has already claimed (it claims a little before the due time and
      // waits holding the row lock): recorded here, and read by that runner just before it runs it.
      await db.raw(`create table job_cancels (id uuid primary key, at timestamptz not null default now())`)
    }
  },
  {
    name: '012_jobs_done',
    async up(db) {
      // Finished jobs leave `jobs` (a DELETE in the batch's transaction, see claim-sql.ts) for this
      // append-only record: an UPDATE to 'done' changed `state`, which the partial indexes depend on,
      // so it was never a HOT update and left dead index entries that concurrent INSERTs paid for.
      // Only what `bazaar jobs list/show` tell of a done job; swept after JOBS_RETENTION (retention.ts).
      await db.raw(`
        create table jobs_done (
          id uuid not null,
          name text not null,
          key text,
          payload jsonb not null,
          attempts integer not null,
          run_at timestamptz not null,
          due_at timestamptz not null,
          schedule_name text,
          created_at timestamptz not null,
          finished_at timestamptz not null
        )`)
      // No index on id (a B-tree on random uuids is most of the cost of the move, measured: bench/lib/jobs-profile.ts):
      // `bazaar jobs show <id>` of a done job scans the record, which retention keeps bounded.
      // Rows arrive in finished_at order: a BRIN index is enough for the retention sweep, and costs an insert nothing.
      await db.raw(`create index jobs_done_finished on jobs_done using brin (finished_at)`)
      await db.raw(`
        with moved as (delete from jobs where state = 'done' returning *)
        insert into jobs_done (id, name, key, payload, attempts, run_at, due_at, schedule_name, created_at, finished_at)
        select id, name, key, payload, attempts, run_at, due_at, schedule_name, created_at, coalesce(finished_at, now()) from moved`)
    }
  }
]
