import type { Command } from 'commander'
import { serviceTable } from '../../shared/services.ts'
import { withBroker, type Broker } from '../lib/broker.ts'
import { contextOf, type CliContext } from '../lib/context.ts'
import { describeDeadLetter, peekHead } from '../lib/dead-letters.ts'
import { CliError, oneLine } from '../lib/errors.ts'
import { ManagementClient } from '../lib/management.ts'
import { ageSince, formatAge, printJson, printTable, type OutputOptions } from '../lib/output.ts'
import { jobCounts, withJobSchemas, type JobCounts } from '../lib/jobs.ts'
import { outboxBacklogs, type OutboxBacklog } from '../lib/outbox.ts'
import { groupQueues, shortName, type QueueGroup } from '../lib/queues.ts'
import { loadDeclarations } from '../topology/registry.ts'

interface StatusOptions extends OutputOptions {
  peekWork?: boolean
}

export interface QueueStatus {
  service: string
  queue: string
  declared: boolean
  /** false when declared but absent from the broker */
  exists: boolean
  ready: number | null
  unacked: number | null
  consumers: number | null
  /** age of the head message, when known */
  oldestMessageAgeMs?: number
  retry: number | null
  deadLetters: number | null
  oldestDeadLetterAt?: string
}

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
        const unacked = new Map(onBroker.map((q) => [q.name, q.messages_unacknowledged ?? 0]))
        return queueStatuses(broker, groups, unacked, options.peekWork ?? false)
      })
      let outbox: OutboxBacklog[] | undefined
      let outboxError: string | undefined
      try {
        outbox = await outboxBacklogs(context.env.databaseUrl, context.namespace, serviceTable.map((s) => s.name))
      } catch (err) {
        outboxError = oneLine(err)
      }
      // Jobs per service (shared/jobs): due, late (due for over 5 s) and failed.
      // Parked keys (shared/bus, per-key order) belong beside them: add their counts to the same database pass here.
      let jobs: JobCounts[] | undefined
      let jobsError: string | undefined
      if (outbox) {
        try {
          jobs = await withJobSchemas(context.env.databaseUrl, context.namespace, undefined, jobCounts)
        } catch (err) {
          jobsError = oneLine(err)
        }
      }
      if (options.json) printJson({ namespace: context.namespace, queues, outbox: outbox ?? null, outboxError, jobs: jobs ?? null, jobsError })
      else printHuman(context, queues, outbox, jobs)
      // The queues are still worth showing, but a status with a part unknown is a failed status: non-zero, one line.
      if (outboxError) throw new CliError(`outbox backlog unknown: ${outboxError}`)
      if (jobsError) throw new CliError(`job counts unknown: ${jobsError}`)
    })
}

async function queueStatuses(broker: Broker, groups: QueueGroup[], unacked: Map<string, number>, peekWork: boolean): Promise<QueueStatus[]> {
  const peek = await broker.channel()
  const result: QueueStatus[] = []
  for (const group of groups) {
    const state = await broker.inspect(group.queue)
    let retry: number | null = null
    for (const name of group.retryQueues) {
      const r = await broker.inspect(name)
      if (r) retry = (retry ?? 0) + r.ready
    }
    const dlq = group.dlq ? await broker.inspect(group.dlq) : undefined
    const status: QueueStatus = {
      service: group.service,
      queue: group.queue,
      declared: group.declared,
      exists: state !== undefined,
      ready: state?.ready ?? null,
      unacked: state ? (unacked.get(group.queue) ?? 0) : null,
      consumers: state?.consumers ?? null,
      retry,
      deadLetters: dlq?.ready ?? null
    }
    if (peekWork && state && state.ready > 0) {
      const head = await peekHead(peek, group.queue)
      const ts = Number(head?.properties.timestamp)
      if (ts) status.oldestMessageAgeMs = Date.now() - ts * 1000
    }
    if (group.dlq && dlq && dlq.ready > 0) {
      const head = await peekHead(peek, group.dlq)
      if (head) status.oldestDeadLetterAt = describeDeadLetter(head, { dlq: group.dlq, queue: group.queue }, 1).deadLetteredAt
    }
    result.push(status)
  }
  return result
}

function printHuman(context: CliContext, queues: QueueStatus[], outbox: OutboxBacklog[] | undefined, jobs: JobCounts[] | undefined): void {
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
  if (!jobs) return
  printTable(
    ['service', 'schema', 'due jobs', 'late', 'failed', 'oldest due'],
    jobs.map((j) => [j.service, j.schema, j.due, j.late, j.failed, formatAge(ageSince(j.oldestDueAt))]),
    { title: 'Jobs', empty: '(no service has jobs tables)' }
  )
}
