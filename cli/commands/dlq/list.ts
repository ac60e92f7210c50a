import type { Command } from 'commander'
import { names } from '../../../shared/bus/names.ts'
import { withBroker } from '../../lib/broker.ts'
import { contextOf } from '../../lib/context.ts'
import { describeDeadLetter, peekHead } from '../../../shared/ops/dead-letters.ts'
import { ManagementClient } from '../../lib/management.ts'
import { ageSince, formatAge, printJson, printTable, type OutputOptions } from '../../lib/output.ts'
import { shortName } from '../../../shared/ops/queues.ts'
import { loadDeclarations } from '../../topology/registry.ts'

export interface DeadLetterQueueSummary {
  dlq: string
  queue: string
  service: string
  /** false when declared but absent from the broker */
  exists: boolean
  depth: number | null
  oldestFailureAt?: string
  oldestError?: string
}

export function registerDlqList(dlq: Command): void {
  dlq
    .command('list')
    .description('each dead-letter queue with its depth and oldest failure')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions, command: Command) => {
      const context = contextOf(command)
      const { topology: declared } = await loadDeclarations(context.namespace, command.optsWithGlobals().declarations)
      const summaries = await withBroker(context, async (broker) => {
        const onBroker = await new ManagementClient(context.managementUrl).queues(context.namespace)
        const services = new Map<string, string>()
        for (const q of declared.queues) if (q.purpose === 'dead-letter') services.set(q.name, q.service)
        for (const q of onBroker) {
          if (names.isDeadLetterQueue(q.name) && !services.has(q.name)) services.set(q.name, shortName(context.namespace, q.name).split('.')[0]!)
        }
        const peek = await broker.channel()
        const result: DeadLetterQueueSummary[] = []
        for (const [name, service] of [...services].sort(([a], [b]) => a.localeCompare(b))) {
          const ref = { dlq: name, queue: names.queueOfDeadLetterQueue(name) }
          const state = await broker.inspect(name)
          const summary: DeadLetterQueueSummary = { ...ref, service, exists: state !== undefined, depth: state?.ready ?? null }
          if (state && state.ready > 0) {
            const head = await peekHead(peek, name)
            if (head) {
              const letter = describeDeadLetter(head, ref, 1)
              summary.oldestFailureAt = letter.deadLetteredAt ?? letter.lastFailureAt
              summary.oldestError = letter.error
            }
          }
          result.push(summary)
        }
        return result
      })
      if (options.json) return printJson(summaries)
      printTable(
        ['dead-letter queue', 'service', 'depth', 'oldest failure', 'age', 'its error'],
        summaries.map((s) => [
          shortName(context.namespace, s.dlq) + (s.exists ? '' : ' (missing)'),
          s.service,
          s.depth,
          s.oldestFailureAt,
          formatAge(ageSince(s.oldestFailureAt)),
          s.oldestError && s.oldestError.length > 60 ? `${s.oldestError.slice(0, 57)}...` : s.oldestError
        ]),
        { title: `Dead-letter queues in namespace ${context.namespace}`, empty: '(none)' }
      )
    })
}
