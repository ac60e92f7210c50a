import type { Command } from 'commander'
import type { Knex } from 'knex'
import { cancelJob, runJobNow } from '../../shared/jobs/enqueue.ts'
import { contextOf, positiveInt } from '../lib/context.ts'
import { CliError, usageError } from '../lib/errors.ts'
import { addRowCommand, JOB_ROW, withJobSchemas } from '../lib/jobs.ts'
import { printJson, printTable, type OutputOptions } from '../lib/output.ts'

const STATES = ['pending', 'due', 'late', 'failed', 'done', 'cancelled', 'all'] as const
type StateFilter = (typeof STATES)[number]

interface ListOptions extends OutputOptions {
  service?: string
  state: StateFilter[]
  name?: string
  limit: number
}

/** A job as the CLI shows it. */
export interface JobRow {
  service: string
  id: string
  name: string
  key: string | null
  state: string
  runAt: string
  dueAt: string
  attempts: number
  lastError: string | null
  schedule: string | null
  payload?: unknown
  createdAt?: string
  finishedAt?: string | null
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('delayed jobs in each service\'s schema: list, show, cancel, run-now')

  jobs
    .command('list')
    .description('jobs, oldest due first (default: pending and failed)')
    .option('--service <service>', 'only this service')
    .option('--state <state>', `${STATES.join(', ')}; repeatable (due: pending and due now; late: due for over 5 s)`, collectState, [])
    .option('--name <job>', 'only jobs of this name')
    .option('--limit <n>', 'at most this many per service', positiveInt('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (options: ListOptions, command: Command) => {
      const context = contextOf(command)
      const states = options.state.length ? options.state : (['pending', 'failed'] as StateFilter[])
      const rows = await withJobSchemas(context.env.databaseUrl, context.namespace, options.service, async (db, schemas) => {
        const result: JobRow[] = []
        for (const { service, schema } of schemas) {
          const found: JobRow[] = []
          const live = states.filter((s) => s !== 'done')
          if (live.length) {
            const query = db.withSchema(schema).from('jobs').orderBy('run_at').limit(options.limit)
            if (options.name) query.where({ name: options.name })
            if (!live.includes('all')) {
              query.where((q) => {
                for (const state of live) {
                  if (state === 'due') q.orWhere((w) => w.where({ state: 'pending' }).whereRaw('run_at <= clock_timestamp()'))
                  else if (state === 'late') q.orWhere((w) => w.where({ state: 'pending' }).whereRaw(`run_at <= clock_timestamp() - interval '5 seconds'`))
                  else q.orWhere({ state })
                }
              })
            }
            for (const row of await query) found.push(jobRow(service, row))
          }
          // done jobs have left `jobs` for their append-only record (shared/jobs/tables.ts, jobs_done)
          if (states.includes('done') || states.includes('all')) {
            const query = db.withSchema(schema).from('jobs_done').orderBy('run_at').limit(options.limit)
            if (options.name) query.where({ name: options.name })
            for (const row of await query) found.push(jobRow(service, doneRow(row)))
          }
          found.sort((a, b) => a.runAt.localeCompare(b.runAt))
          result.push(...found.slice(0, options.limit))
        }
        return result
      })
      if (options.json) return printJson({ namespace: context.namespace, jobs: rows })
      printTable(
        ['service', 'id', 'name', 'key', 'state', 'run at', 'attempts', 'schedule', 'last error'],
        rows.map((j) => [j.service, j.id, j.name, j.key, j.state, j.runAt, j.attempts, j.schedule, j.lastError?.slice(0, 60)]),
        { title: `Jobs in namespace ${context.namespace} (${states.join(', ')})`, empty: '(no jobs)' }
      )
    })

  addRowCommand(jobs, JOB_ROW, {
    name: 'show',
    description: 'one job: its payload, times, attempts and last error',
    act: async (db, { service, schema }, id) => jobRow(service, (await findJob(db, schema, id))!, true),
    print: (job) => printTable(['field', 'value'], Object.entries(job).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string)]))
  })

  addRowCommand(jobs, JOB_ROW, {
    name: 'cancel',
    description: 'cancel a pending job (it will not run)',
    act: async (db, { service, schema }, id) => {
      if (await cancelJob(db, schema, { id })) return { service, id, cancelled: true }
      const { state } = (await findJob(db, schema, id))!
      throw new CliError(`job ${id} is ${state === 'pending' ? 'running right now' : state}: only a pending job can be cancelled`)
    },
    print: (result, id) => process.stdout.write(`cancelled job ${id} (${result.service})\n`)
  })

  addRowCommand(jobs, JOB_ROW, {
    name: 'run-now',
    description: 'make a pending job due now, or give a failed one another attempt',
    act: async (db, { service, schema }, id) => {
      const was = (await runJobNow(db, schema, id)) ?? (await findJob(db, schema, id))?.state
      if (was !== 'pending' && was !== 'failed') throw new CliError(`job ${id} is ${was}: only a pending or failed job can be run again`)
      return { service, id, was, state: 'pending' }
    },
    print: (result, id) => process.stdout.write(`job ${id} (${result.service}) is due now (was ${result.was})\n`)
  })
}

function collectState(value: string, previous: StateFilter[]): StateFilter[] {
  const states = value.split(',').map((s) => s.trim())
  for (const state of states) if (!(STATES as readonly string[]).includes(state)) throw usageError(`--state must be one of ${STATES.join(', ')} (got "${state}")`)
  return [...previous, ...(states as StateFilter[])]
}

/** A job by id: its row in `jobs`, else its record in `jobs_done` (as a row of state 'done'), else undefined. */
async function findJob(db: Knex, schema: string, id: string): Promise<Record<string, any> | undefined> {
  const row = await db.withSchema(schema).from('jobs').where({ id }).first()
  if (row) return row
  const done = await db.withSchema(schema).from('jobs_done').where({ id }).first()
  return done && doneRow(done)
}

/** A jobs_done record in the shape of a `jobs` row: done, no error (it succeeded), ran when it finished. */
function doneRow(row: Record<string, any>): Record<string, any> {
  return { ...row, state: 'done', last_error: null }
}

const iso = (value: Date | null | undefined) => (value ? new Date(value).toISOString() : null)

function jobRow(service: string, row: Record<string, any>, full = false): JobRow {
  const base: JobRow = {
    service,
    id: row.id,
    name: row.name,
    key: row.key,
    state: row.state,
    runAt: iso(row.run_at)!,
    dueAt: iso(row.due_at)!,
    attempts: row.attempts,
    lastError: row.last_error,
    schedule: row.schedule_name
  }
  return full ? { ...base, payload: row.payload, createdAt: iso(row.created_at)!, finishedAt: iso(row.finished_at) } : base
}
