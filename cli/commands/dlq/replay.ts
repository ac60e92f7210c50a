import type { Command } from 'commander'
import { SingleBar } from 'cli-progress'
import { withBroker } from '../../lib/broker.ts'
import { contextOf, positiveNumber } from '../../lib/context.ts'
import { resolveDeadLetterQueue } from '../../../shared/ops/dead-letters.ts'
import { replayDeadLetters, selectionProblem, type ReplaySummary } from '../../../shared/ops/replay.ts'
import { CliError, usageError } from '../../lib/errors.ts'
import { printJson, printTable, type OutputOptions } from '../../lib/output.ts'
import { addFilterOptions, filterOf } from './filter.ts'

interface ReplayOptions extends OutputOptions {
  id?: string[]
  routingKey?: string
  error?: string
  all?: boolean
  dryRun?: boolean
  rate?: number
}

export function registerDlqReplay(dlq: Command): void {
  addFilterOptions(
    dlq
      .command('replay')
      .description('send chosen dead letters back to the queue they failed in (confirmed before they leave the dead-letter queue)')
      .argument('<queue>', 'the dead-letter queue or the queue it belongs to (namespace prefix optional)')
      .option('--id <id...>', 'only these message ids')
  )
    .option('--all', 'every message in the dead-letter queue')
    .option('--dry-run', 'only say what would be replayed')
    .option('--rate <n>', 'at most n messages per second', positiveNumber('--rate'))
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nChoose messages with --all, or with --id / --routing-key / --error (a message must meet every criterion given).')
    .action(async (queue: string, options: ReplayOptions, command: Command) => {
      const filter = filterOf(options)
      const problem = selectionProblem({ all: options.all, filter })
      if (problem) throw usageError(problem)
      const context = contextOf(command)
      const summary = await withBroker(context, async (broker) => {
        const ref = await resolveDeadLetterQueue(broker, queue)
        const publisher = options.dryRun ? undefined : await broker.publisher()
        const channel = await broker.channel()
        const bar = new SingleBar({ stream: process.stderr, format: 'replaying [{bar}] {value}/{total} read | {replayed} replayed', hideCursor: true })
        let stop = false
        const onSignal = () => { stop = true }
        process.once('SIGINT', onSignal)
        process.once('SIGTERM', onSignal)
        try {
          // The loop and its guarantees are shared with the console at /ops (shared/ops/replay.ts).
          return await replayDeadLetters(channel, ref, {
            all: options.all,
            filter,
            publisher,
            rate: options.rate,
            shouldStop: () => stop,
            onStart: (total) => bar.start(total, 0, { replayed: 0 }),
            onVisited: (so) => bar.increment(1, { replayed: so.replayed })
          })
        } finally {
          bar.stop()
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        }
      })
      if (options.json) printJson(summary)
      else printSummary(summary)
      if (summary.interrupted) throw new CliError(`replay interrupted: ${summary.replayed} replayed, the rest stay in ${summary.dlq}`)
      if (summary.failed) throw new CliError(`${summary.failed} message(s) could not be replayed and stay in ${summary.dlq}: ${summary.failures[0]!.error}`)
    })
}

function printSummary(summary: ReplaySummary): void {
  if (summary.wouldReplay) {
    printTable(
      ['id', 'routing key', 'back to queue'],
      summary.wouldReplay.map((m) => [m.id, m.routingKey, m.originalQueue]),
      { title: `dry run: would replay ${summary.matched} of ${summary.total} message(s) from ${summary.dlq}; nothing moved`, empty: '(nothing matches)' }
    )
    return
  }
  process.stdout.write(`${summary.dlq}: replayed ${summary.replayed}, left ${summary.left}, failed ${summary.failed}\n`)
  for (const f of summary.failures) process.stdout.write(`  failed ${f.id ?? '(no id)'}: ${f.error}\n`)
}
