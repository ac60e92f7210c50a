import type { Migration } from '../db/migrations.ts'

/**
 * The iterator's table, for a service that runs long jobs as cursor + step
 * (listed in the service's own migrations: only services that iterate have it).
 */
export const iteratorMigration: Migration = {
  name: '020_iterations',
  async up(db) {
    await db.raw(`
      create table iterations (
        id uuid primary key,
        kind text not null,
        -- where the job stands: saved in the same transaction as the step's writes and outbox rows
        cursor jsonb not null,
        state text not null default 'running' check (state in ('running', 'paused', 'cancelled', 'done')),
        -- the worker that holds the job, and until when (moved on by its heartbeat)
        lease_owner text,
        lease_until timestamptz,
        steps integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`)
    await db.raw(`create index iterations_runnable on iterations (lease_until) where state = 'running'`)
  }
}

/**
 * A failing step is retried a bounded number of times: the consecutive
 * failures, the last reason, and the state `failed` for a job that gave up.
 */
export const iteratorAttemptsMigration: Migration = {
  name: '022_iteration_attempts',
  async up(db) {
    await db.raw('alter table iterations add column attempts integer not null default 0')
    await db.raw('alter table iterations add column last_error text')
    await db.raw('alter table iterations drop constraint iterations_state_check')
    await db.raw(`alter table iterations add constraint iterations_state_check check (state in ('running', 'paused', 'cancelled', 'done', 'failed'))`)
  }
}
