import type { Command } from 'commander'
import { triggerSchedule } from '../../shared/jobs/fires.ts'
import { scheduleRow, setPaused, type ScheduleRow } from '../../shared/jobs/schedule-rows.ts'
import { contextOf } from '../lib/context.ts'
import { addRowCommand, SCHEDULE_ROW, withJobSchemas } from '../lib/jobs.ts'
import { printJson, printTable, type OutputOptions } from '../lib/output.ts'

interface ServiceOption extends OutputOptions {
  service?: string
}

/** A schedule as the CLI shows it. */
export interface ScheduleView {
  service: string
  name: string
  job: string
  cadence: string
  overlap: string
  catchUp: string
  paused: boolean
  nextDueAt: string | null
  lastFireAt: string | null
  /** its jobs not finished yet (pending, retrying) */
  unfinished: number
}

export function registerSchedules(program: Command): void {
  const schedules = program.command('schedules').description('recurring schedules in each service\'s schema: list, pause, resume, trigger')

  schedules
    .command('list')
    .description('every schedule: cadence, policies, paused, next due time, last fire')
    .option('--service <service>', 'only this service')
    .option('--json', 'print JSON')
    .action(async (options: ServiceOption, command: Command) => {
      const context = contextOf(command)
      const views = await withJobSchemas(context.env.databaseUrl, context.namespace, options.service, async (db, schemas) => {
        const result: ScheduleView[] = []
        for (const { service, schema } of schemas) {
          const { rows } = await db.raw<{ rows: Array<ScheduleRow & { unfinished: number }> }>(
            `select s.*, (select count(*)::int from ??.jobs j where j.schedule_name = s.name and j.state = 'pending') as unfinished
             from ??.schedules s order by s.name`,
            [schema, schema]
          )
          for (const row of rows) result.push(view(service, row, row.unfinished))
        }
        return result
      })
      if (options.json) return printJson({ namespace: context.namespace, schedules: views })
      printTable(
        ['service', 'name', 'job', 'cadence', 'overlap', 'catch-up', 'paused', 'next due', 'last fire', 'unfinished'],
        views.map((s) => [s.service, s.name, s.job, s.cadence, s.overlap, s.catchUp, s.paused ? 'yes' : 'no', s.nextDueAt, s.lastFireAt, s.unfinished]),
        { title: `Schedules in namespace ${context.namespace}`, empty: '(no schedules)' }
      )
    })

  for (const [verb, description] of [
    ['pause', 'stop firing a schedule until resumed (what falls due meanwhile is not caught up)'],
    ['resume', 'fire a paused schedule again, from its next due time after now']
  ] as const) {
    addRowCommand(schedules, SCHEDULE_ROW, {
      name: verb,
      description,
      act: async (db, { service, schema }, name) => {
        await setPaused(db, schema, name, verb === 'pause')
        return view(service, await scheduleRow(db, schema, name), 0)
      },
      print: (result, name) => process.stdout.write(`schedule ${name} (${result.service}) ${verb === 'pause' ? 'paused' : `resumed, next due ${result.nextDueAt}`}\n`)
    })
  }

  addRowCommand(schedules, SCHEDULE_ROW, {
    name: 'trigger',
    description: "queue a schedule's job now, outside its cadence",
    act: async (db, { service, schema }, name) => ({ service, schedule: name, jobId: await triggerSchedule(db, schema, await scheduleRow(db, schema, name)) }),
    print: (result, name) => process.stdout.write(`schedule ${name} (${result.service}) triggered: job ${result.jobId}\n`)
  })
}

function view(service: string, row: ScheduleRow, unfinished: number): ScheduleView {
  const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null)
  return {
    service,
    name: row.name,
    job: row.job,
    cadence: row.cron !== null ? `${row.cron} (${row.time_zone})` : `every ${row.interval_ms} ms`,
    overlap: row.overlap,
    catchUp: row.catch_up === 'within' ? `all within ${row.catch_up_within_ms} ms` : row.catch_up,
    paused: row.paused,
    nextDueAt: iso(row.next_due_at),
    lastFireAt: iso(row.last_fire_at),
    unfinished
  }
}
