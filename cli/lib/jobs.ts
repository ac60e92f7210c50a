import type { Command } from 'commander'
import type { Knex } from 'knex'
import { redactUrl } from '../../shared/config/env.ts'
import { serviceTable } from '../../shared/services.ts'
import { contextOf } from './context.ts'
import { quietKnex } from './database.ts'
import { CliError } from './errors.ts'
import { printJson } from './output.ts'
import type { ServiceSchema } from '../../shared/ops/tables.ts'

/** A service schema of the namespace that has the jobs tables. */
export type JobSchema = ServiceSchema

/**
 * Runs `work` with a database connection on DATABASE_URL (quiet: knex would
 * print pool errors on stdout and break --json) and the schemas of the
 * namespace's services that have jobs tables (`--service` narrows them; a
 * service name outside the service table is allowed, for tests and tools).
 */
export async function withJobSchemas<T>(
  databaseUrl: string,
  namespace: string,
  service: string | undefined,
  work: (db: Knex, schemas: JobSchema[]) => Promise<T>
): Promise<T> {
  const { schemasWithTable } = await import('../../shared/ops/tables.ts')
  const db = await quietKnex(databaseUrl)
  try {
    let schemas: JobSchema[]
    try {
      schemas = await schemasWithTable(db, namespace, service ? [service] : serviceTable.map((s) => s.name), 'jobs')
    } catch (err) {
      const cause = (err as { code?: string }).code ?? (err as Error).message
      throw new CliError(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${cause}); start it or set DATABASE_URL`)
    }
    if (service && !schemas.length) throw new CliError(`service "${service}" has no jobs tables in namespace ${namespace}`)
    return await work(db, schemas)
  } finally {
    await db.destroy()
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The schema holding job `id`; a one-line CliError when no service has it. */
export async function schemaOfJob(db: Knex, schemas: JobSchema[], id: string, namespace: string): Promise<JobSchema> {
  if (UUID.test(id)) {
    for (const s of schemas) {
      // a done job has moved to jobs_done (shared/jobs/tables.ts)
      const { rows } = await db.raw<{ rows: unknown[] }>('select 1 from ??.jobs where id = ? union all select 1 from ??.jobs_done where id = ?', [s.schema, id, s.schema, id])
      if (rows.length) return s
    }
  }
  throw new CliError(`no job ${id} in namespace ${namespace}`)
}

/** The schema holding schedule `name`; one line when none or several services have one of that name. */
export async function schemaOfSchedule(db: Knex, schemas: JobSchema[], name: string, namespace: string): Promise<JobSchema> {
  const found: JobSchema[] = []
  for (const s of schemas) {
    const { rows } = await db.raw<{ rows: unknown[] }>('select 1 from ??.schedules where name = ?', [s.schema, name])
    if (rows.length) found.push(s)
  }
  if (!found.length) throw new CliError(`no schedule "${name}" in namespace ${namespace}`)
  if (found.length > 1) throw new CliError(`schedule "${name}" exists in ${found.map((s) => s.service).join(', ')}: say which with --service`)
  return found[0]!
}

/** What a `jobs <verb>` or `schedules <verb>` command acts on: a job by id, a schedule by name, in whichever schema has it. */
export interface RowKind {
  /** `<id>` or `<name>` */
  argument: string
  argumentHelp: string
  /** the schema holding the row; a one-line CliError when none (or several) has it */
  locate: (db: Knex, schemas: JobSchema[], target: string, namespace: string) => Promise<JobSchema>
}

export const JOB_ROW: RowKind = { argument: '<id>', argumentHelp: 'the job id', locate: schemaOfJob }
export const SCHEDULE_ROW: RowKind = {
  argument: '<name>',
  argumentHelp: 'the schedule (--service when several services have one of that name)',
  locate: schemaOfSchedule
}

export interface RowCommand<T> {
  name: string
  description: string
  /** acts on the row in the schema that has it; a CliError when it cannot */
  act: (db: Knex, where: JobSchema, target: string) => Promise<T>
  /** the human line (or table); --json prints the result as it is */
  print: (result: T, target: string) => void
}

/** `<parent> <verb> <id|name>`: finds the row's schema (--service narrows the search), acts, prints (--json: JSON). */
export function addRowCommand<T>(parent: Command, row: RowKind, spec: RowCommand<T>): void {
  parent
    .command(spec.name)
    .description(spec.description)
    .argument(row.argument, row.argumentHelp)
    .option('--service <service>', 'look only in this service')
    .option('--json', 'print JSON')
    .action(async (target: string, options: { service?: string; json?: boolean }, command: Command) => {
      const context = contextOf(command)
      const result = await withJobSchemas(context.env.databaseUrl, context.namespace, options.service, async (db, schemas) =>
        spec.act(db, await row.locate(db, schemas, target, context.namespace), target)
      )
      if (options.json) printJson(result)
      else spec.print(result, target)
    })
}
