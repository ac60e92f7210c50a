import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { withBroker } from '../../lib/broker.ts'
import { contextOf } from '../../lib/context.ts'
import { resolveDeadLetterQueue } from '../../../shared/ops/dead-letters.ts'
import { CliError, usageError } from '../../lib/errors.ts'
import { printJson, type OutputOptions } from '../../lib/output.ts'

interface PurgeOptions extends OutputOptions {
  yes?: boolean
}

export function registerDlqPurge(dlq: Command): void {
  dlq
    .command('purge')
    .description('delete every message of a dead-letter queue (asks first unless --yes)')
    .argument('<queue>', 'the dead-letter queue or the queue it belongs to (namespace prefix optional)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the result as JSON')
    .action(async (queue: string, options: PurgeOptions, command: Command) => {
      const context = contextOf(command)
      const result = await withBroker(context, async (broker) => {
        const ref = await resolveDeadLetterQueue(broker, queue)
        const depth = (await broker.inspect(ref.dlq))?.ready ?? 0
        if (!options.yes) {
          if (!process.stdin.isTTY) throw usageError(`refusing to purge ${ref.dlq} without --yes (no terminal to ask on)`)
          const rl = createInterface({ input: process.stdin, output: process.stderr })
          const answer = await rl.question(`Delete all ${depth} message(s) of ${ref.dlq}? This cannot be undone. Type "yes": `).finally(() => rl.close())
          if (answer.trim().toLowerCase() !== 'yes') throw new CliError('purge cancelled; nothing was deleted')
        }
        const channel = await broker.channel()
        const { messageCount } = await channel.purgeQueue(ref.dlq)
        return { dlq: ref.dlq, purged: messageCount }
      })
      if (options.json) printJson(result)
      else process.stdout.write(`purged ${result.purged} message(s) from ${result.dlq}\n`)
    })
}
