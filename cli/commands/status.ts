import type { Command } from 'commander'
import { serviceTable } from '../../shared/services.ts'
import { jobCounts, type JobCounts } from '../../shared/ops/jobs.ts'
import { ManagementClient } from '../../shared/ops/management.ts'
import { parkedCounts, type ParkedCounts } from '../../shared/ops/parked.ts'
import { queueStatuses, type QueueStatus } from '../../shared/ops/queue-status.ts'
import { groupQueues, shortName } from '../../shared/ops/queues.ts'
import { withBroker } from '../lib/broker.ts'
import { contextOf, type CliContext } from '../lib/context.ts'
import { withDatabase } from '../lib/database.ts'
import { CliError, oneLine } from '../lib/errors.ts'
import { ageSince, formatAge, printJson, printTable, type OutputOptions } from '../lib/output.ts'
import { withJobSchemas } from '../lib/jobs.ts'
import { outboxBacklogs, type OutboxBacklog } from '../lib/outbox.ts'
import { loadDeclarations } from '../topology/registry.ts'

interface StatusOptions extends OutputOptions {
  peekWork?: boolean
}

export type { QueueStatus } from '../../shared/ops/queue-status.ts'

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("every service's queues (ready, unacked, consumers, oldest message, retry and dead-letter depths), outbox backlogs and due, late and failed jobs")
    .option('--json', 'print JSON')
    .option('--peek-work', 'also read the age of each work queue\'s head message (counts as one delivery toward its delivery limit)')
    .action(async (options: StatusOptions, command: Command) => {
      const context = contextOf(command)
      const { topology: declared } = await loadDeclarations(context.namespace, command.optsWithGlobals().declarations)
      const queues = await withBroker(context, async (broker) => {
        const onBroker = await new ManagementClient(context.managementUrl).queues(context.namespace)
        const groups = groupQueues(context.namespace, declared, onBroker)
        return queueStatuses(broker.inspector, await broker.channel(), groups, onBroker, { peekWork: options.peekWork ?? false, peekDeadLetters: true })
      })
      let outbox: OutboxBacklog[] | undefined
      let outboxError: string | undefined
      try {
        outbox = await outboxBacklogs(context.env.databaseUrl, context.namespace, serviceTable.map((s) => s.name))
      } catch (err) {
        outboxError = oneLine(err)
      }
      // Jobs per service (shared/jobs): due, late (due for over 5 s) and failed.
      let jobs: JobCounts[] | undefined
      let jobsError: string | undefined
      if (outbox) {
        try {
          jobs = await withJobSchemas(context.env.databaseUrl, context.namespace, undefined, jobCounts)
        } catch (err) {
          jobsError = oneLine(err)
        }
      }
      // Parked keys of partitioned consumers (`bazaar keys list` for each one).
      const parked = outbox ? await withDatabase(context.env.databaseUrl, (db) => parkedCounts(db, context.namespace)) : undefined
      if (options.json)
        printJson({ namespace: context.namespace, queues, outbox: outbox ?? null, outboxError, jobs: jobs ?? null, jobsError, parked: parked ?? null })
      else printHuman(context, queues, outbox, jobs, parked)
      // The queues are still worth showing, but a status with a part unknown is a failed status: non-zero, one line.
      if (outboxError) throw new CliError(`outbox backlog unknown: ${outboxError}`)
      if (jobsError) throw new CliError(`job counts unknown: ${jobsError}`)
    })
}

function printHuman(
  context: CliContext,
  queues: QueueStatus[],
  outbox: OutboxBacklog[] | undefined,
  jobs: JobCounts[] | undefined,
  parked: ParkedCounts[] = []
): void {
  const ns = context.namespace
  printTable(
    ['service', 'queue', 'ready', 'unacked', 'consumers', 'oldest', 'retrying', 'dead letters', 'oldest dead letter'],
    queues.map((q) => [
      q.service,
      shortName(ns, q.queue) + (q.exists ? '' : ' (missing)') + (q.declared ? '' : ' (undeclared)'),
      q.ready,
      q.unacked,
      q.consumers,
      formatAge(q.oldestMessageAgeMs),
      q.retry,
      q.deadLetters,
      formatAge(ageSince(q.oldestDeadLetterAt))
    ]),
    { title: `Queues in namespace ${ns}`, empty: '(no queues declared or on the broker)' }
  )
  if (!outbox) return // the caller fails with the reason
  printTable(
    ['service', 'schema', 'outbox backlog', 'oldest row'],
    (outbox ?? []).map((o) => [o.service, o.schema, o.backlog, formatAge(ageSince(o.oldestAt))]),
    { title: 'Outbox backlog' }
  )
  if (jobs)
    printTable(
      ['service', 'schema', 'due jobs', 'late', 'failed', 'oldest due'],
      jobs.map((j) => [j.service, j.schema, j.due, j.late, j.failed, formatAge(ageSince(j.oldestDueAt))]),
      { title: 'Jobs', empty: '(no service has jobs tables)' }
    )
  printTable(['service', 'parked keys', 'messages waiting'], parked.map((p) => [p.service, p.keys, p.messages]), { title: 'Parked keys', empty: '(none)' })
}
