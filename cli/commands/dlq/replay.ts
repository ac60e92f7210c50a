import type { Command } from 'commander'
import { SingleBar } from 'cli-progress'
import { withBroker } from '../../lib/broker.ts'
import { contextOf, positiveNumber } from '../../lib/context.ts'
import { describeDeadLetter, hasCriteria, matches, passOverQueue, resolveDeadLetterQueue } from '../../lib/dead-letters.ts'
import { CliError, oneLine, usageError } from '../../lib/errors.ts'
import { printJson, printTable, type OutputOptions } from '../../lib/output.ts'
import { rateLimiter, replayOf } from '../../lib/replay.ts'
import { addFilterOptions, filterOf } from './filter.ts'

interface ReplayOptions extends OutputOptions {
  id?: string[]
  routingKey?: string
  error?: string
  all?: boolean
  dryRun?: boolean
  rate?: number
}

export interface ReplaySummary {
  dlq: string
  dryRun: boolean
  /** messages in the dead-letter queue when the replay started */
  total: number
  /** chosen by the criteria */
  matched: number
  /** republished, confirmed, and removed from the dead-letter queue */
  replayed: number
  /** not chosen: still in the dead-letter queue, in their order */
  left: number
  /** chosen but their republish failed: still in the dead-letter queue */
  failed: number
  failures: Array<{ id?: string; error: string }>
  /** with --dry-run: what would be replayed */
  wouldReplay?: Array<{ id?: string; routingKey?: string; originalQueue: string }>
  interrupted: boolean
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
      if (!options.all && !hasCriteria(filter)) throw usageError('choose the messages to replay: --all, --id, --routing-key or --error')
      if (options.all && hasCriteria(filter)) throw usageError('--all cannot be combined with --id, --routing-key or --error')
      const context = contextOf(command)
      const summary = await withBroker(context, async (broker) => {
        const ref = await resolveDeadLetterQueue(broker, queue)
        const dryRun = options.dryRun ?? false
        const publisher = dryRun ? undefined : await broker.publisher()
        const channel = await broker.channel()
        const summary: ReplaySummary = {
          dlq: ref.dlq, dryRun, total: 0, matched: 0, replayed: 0, left: 0, failed: 0, failures: [], interrupted: false,
          ...(dryRun ? { wouldReplay: [] } : {})
        }
        const bar = new SingleBar({ stream: process.stderr, format: 'replaying [{bar}] {value}/{total} read | {replayed} replayed', hideCursor: true })
        const throttle = rateLimiter(options.rate)
        let stop = false
        const onSignal = () => { stop = true }
        process.once('SIGINT', onSignal)
        process.once('SIGTERM', onSignal)
        try {
          const pass = await passOverQueue(
            channel,
            ref.dlq,
            async (message, position) => {
              const letter = describeDeadLetter(message, ref, position)
              try {
                if (!options.all && !matches(letter, filter)) return 'keep'
                summary.matched += 1
                if (!publisher) {
                  summary.wouldReplay!.push({ id: letter.id, routingKey: letter.routingKey, originalQueue: letter.originalQueue })
                  return 'keep'
                }
                await throttle()
                try {
                  const { routed } = await publisher.publishRaw(replayOf(message, letter.originalQueue))
                  if (!routed) throw new Error(`queue ${letter.originalQueue} does not exist`)
                } catch (err) {
                  summary.failed += 1
                  summary.failures.push({ id: letter.id, error: oneLine(err) })
                  return 'keep'
                }
                summary.replayed += 1
                return 'remove'
              } finally {
                bar.increment(1, { replayed: summary.replayed })
              }
            },
            {
              onStart: (total) => {
                summary.total = total
                bar.start(total, 0, { replayed: 0 })
              },
              shouldStop: () => stop
            }
          )
          summary.interrupted = pass.interrupted
          summary.left = pass.kept - summary.failed + (summary.total - pass.seen)
        } finally {
          bar.stop()
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        }
        return summary
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
