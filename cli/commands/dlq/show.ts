import type { Command } from 'commander'
import { withBroker } from '../../lib/broker.ts'
import { contextOf, positiveInt } from '../../lib/context.ts'
import { describeDeadLetter, matches, passOverQueue, resolveDeadLetterQueue, type DeadLetter } from '../../../shared/ops/dead-letters.ts'
import { printJson, printTable, type OutputOptions } from '../../lib/output.ts'
import { addFilterOptions, filterOf } from './filter.ts'

interface ShowOptions extends OutputOptions {
  limit: number
  routingKey?: string
  error?: string
}

export function registerDlqShow(dlq: Command): void {
  addFilterOptions(
    dlq
      .command('show')
      .description('the messages of a dead-letter queue, read without removing them')
      .argument('<queue>', 'the dead-letter queue or the queue it belongs to (namespace prefix optional)')
      .option('--limit <n>', 'show at most this many matching messages', positiveInt('--limit'), 20)
  )
    .option('--json', 'print JSON')
    .action(async (queue: string, options: ShowOptions, command: Command) => {
      const context = contextOf(command)
      const filter = filterOf(options)
      const { ref, letters, depth } = await withBroker(context, async (broker) => {
        const ref = await resolveDeadLetterQueue(broker, queue)
        const letters: DeadLetter[] = []
        const channel = await broker.channel()
        let depth = 0
        await passOverQueue(
          channel,
          ref.dlq,
          async (message, position) => {
            const letter = describeDeadLetter(message, ref, position)
            if (matches(letter, filter)) letters.push(letter)
            return 'keep'
          },
          { onStart: (total) => (depth = total), shouldStop: () => letters.length >= options.limit }
        )
        return { ref, letters, depth }
      })
      if (options.json) return printJson(letters)
      printTable(
        ['#', 'id', 'routing key', 'original queue', 'kind', 'error', 'attempts', 'replays', 'first failure', 'last failure', 'payload'],
        letters.map((l) => [
          l.position, l.id, l.routingKey, l.originalQueue, l.kind, l.error, l.attempts, l.replays, l.firstFailureAt, l.lastFailureAt, l.payloadPreview
        ]),
        { title: `${ref.dlq}: ${depth} message(s), showing ${letters.length}`, empty: '(no matching messages)' }
      )
    })
}
