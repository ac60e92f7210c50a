import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { GetMessage } from 'amqplib'
import type { Command } from 'commander'
import { withBroker } from '../../lib/broker.ts'
import { contextOf } from '../../lib/context.ts'
import { describeDeadLetter, matches, passOverQueue, resolveDeadLetterQueue, type DeadLetter } from '../../../shared/ops/dead-letters.ts'
import { CliError } from '../../lib/errors.ts'
import { printJson, type OutputOptions } from '../../lib/output.ts'
import { addFilterOptions, filterOf } from './filter.ts'

interface ExportOptions extends OutputOptions {
  out: string
  routingKey?: string
  error?: string
}

export function registerDlqExport(dlq: Command): void {
  addFilterOptions(
    dlq
      .command('export')
      .description('write the messages of a dead-letter queue to a JSON Lines file, without removing them')
      .argument('<queue>', 'the dead-letter queue or the queue it belongs to (namespace prefix optional)')
      .requiredOption('--out <file>', 'where to write, one JSON object per message')
  )
    .option('--json', 'print the result as JSON')
    .action(async (queue: string, options: ExportOptions, command: Command) => {
      const context = contextOf(command)
      const filter = filterOf(options)
      let written = 0
      const dlq = await withBroker(context, async (broker) => {
        const ref = await resolveDeadLetterQueue(broker, queue)
        const out = createWriteStream(options.out, { flags: 'w' })
        await once(out, 'open').catch((err: Error) => {
          throw new CliError(`cannot write ${options.out}: ${err.message}`)
        })
        try {
          const channel = await broker.channel()
          await passOverQueue(channel, ref.dlq, async (message, position) => {
            const letter = describeDeadLetter(message, ref, position)
            if (!matches(letter, filter)) return 'keep'
            if (!out.write(`${exportLine(letter, message)}\n`)) await once(out, 'drain')
            written += 1
            return 'keep'
          })
        } finally {
          await new Promise<void>((resolve) => out.end(resolve))
        }
        return ref.dlq
      })
      if (options.json) printJson({ dlq, out: options.out, exported: written })
      else process.stdout.write(`exported ${written} message(s) from ${dlq} to ${options.out} (still in the queue)\n`)
    })
}

/** One message as a JSON line: what `dlq show` says, plus everything needed to publish it again. */
function exportLine(letter: DeadLetter, message: GetMessage): string {
  const utf8 = message.content.toString('utf8')
  const isText = Buffer.from(utf8, 'utf8').equals(message.content)
  return JSON.stringify({
    ...letter,
    properties: { ...message.properties, headers: undefined },
    headers: message.properties.headers ?? {},
    body: isText ? utf8 : message.content.toString('base64'),
    bodyEncoding: isText ? 'utf8' : 'base64'
  })
}
