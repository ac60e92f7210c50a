import type { Knex } from 'knex'
import { readEnv } from '../../shared/config/env.ts'
import { createKnex, schemaName } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { Jobs, jobMigrations, type JobsOptions } from '../../shared/jobs/index.ts'

/**
 * One service schema with the jobs tables, and Jobs instances on it, without
 * the rest of a Feathers app: what the runner sees is what a service's runner sees.
 */
export class JobsHarness {
  readonly schema: string
  readonly db: Knex
  readonly databaseUrl: string
  private readonly made: Jobs[] = []

  constructor(namespace: string, service = 'jobs', databaseUrl = readEnv().databaseUrl) {
    this.schema = schemaName(namespace, service)
    this.databaseUrl = databaseUrl
    this.db = createKnex(databaseUrl, this.schema, { min: 0, max: 4 })
  }

  /** Creates the schema's tables, and an `effects` table handlers write to (unique per job: a double run fails). */
  async migrate(): Promise<void> {
    await migrate(this.db, this.schema, jobMigrations)
    await this.db.raw(`create table if not exists effects (job_id uuid primary key, name text not null, payload jsonb, at timestamptz not null default clock_timestamp())`)
  }

  jobs(runner: JobsOptions['runner'] = {}): Jobs {
    const jobs = new Jobs({ db: this.db, databaseUrl: this.databaseUrl, schema: this.schema, runner: { safetyPollMs: 2_000, retryDelayMs: 100, ...runner } })
    this.made.push(jobs)
    return jobs
  }

  async effects(name?: string): Promise<Array<{ job_id: string; name: string; payload: unknown; at: Date }>> {
    const query = this.db('effects').orderBy('at')
    return name ? query.where({ name }) : query
  }

  /** A job by id, wherever it is: `jobs`, or (done) its record in `jobs_done`. */
  async job(id: string): Promise<{ state: string; attempts: number; last_error: string | null; run_at: Date; due_at: Date }> {
    return this.allJobs().where({ id }).first()
  }

  /** Every job, live (`jobs`) or done (`jobs_done`, where a finished job moves), in the columns both have. */
  allJobs(): Knex.QueryBuilder {
    return this.db.queryBuilder().from(this.db.raw(`(
      select id, name, key, state, payload, run_at, due_at, attempts, last_error, schedule_name, finished_at from jobs
      union all
      select id, name, key, 'done', payload, run_at, due_at, attempts, null, schedule_name, finished_at from jobs_done
    ) as all_jobs`))
  }

  async close(): Promise<void> {
    for (const jobs of this.made.splice(0)) await jobs.stop()
    await this.db.raw('drop schema if exists ?? cascade', [this.schema])
    await this.db.destroy()
  }
}

/** A handler's effect, in its transaction: a second run of the same job would violate the primary key. */
export async function recordEffect(trx: Knex.Transaction, job: { id: string; name: string; payload: unknown }): Promise<void> {
  await trx('effects').insert({ job_id: job.id, name: job.name, payload: JSON.stringify(job.payload) })
}
