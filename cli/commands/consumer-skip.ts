import type { Command } from 'commander'
import { sendControl } from '../../shared/bus/control.ts'
import { names } from '../../shared/bus/names.ts'
import { withBroker } from '../lib/broker.ts'
import { contextOf, positiveNumber } from '../lib/context.ts'
import { CliError } from '../lib/errors.ts'
import { printJson, type OutputOptions } from '../lib/output.ts'

interface SkipOptions extends OutputOptions {
  timeout: number
}

export function registerConsumerSkip(program: Command): void {
  const consumer = program.command('consumer').description('commands to running consumers')
  consumer
    .command('skip')
    .description('tell the consumer of a queue that is stuck retrying one message (blocking retry) to dead-letter it, so the rest can flow')
    .argument('<queue>', 'the work queue (namespace prefix optional)')
    .option('--timeout <seconds>', 'how long to wait for the message to reach the dead-letter queue', positiveNumber('--timeout'), 10)
    .option('--json', 'print the result as JSON')
    .action(async (input: string, options: SkipOptions, command: Command) => {
      const context = contextOf(command)
      const result = await withBroker(context, async (broker) => {
        const ns = context.namespace
        const full = input.startsWith(`${ns}.`) ? input : `${ns}.${input}`
        const queue = names.isDeadLetterQueue(full) ? names.queueOfDeadLetterQueue(full) : full
        const dlq = names.deadLetterQueue(queue)
        const work = await broker.inspect(queue)
        if (!work) throw new CliError(`unknown queue ${input}: namespace ${ns} has no queue ${queue}`)
        if (work.consumers === 0) throw new CliError(`no consumer is running on ${queue}; nothing to skip`)
        const before = (await broker.inspect(dlq))?.ready ?? 0
        const model = await broker.connection.channelModel()
        const channel = await model.createConfirmChannel()
        channel.on('error', () => {})
        try {
          await sendControl(channel, ns, { command: 'skip', queue })
          await channel.waitForConfirms()
        } finally {
          await channel.close().catch(() => {})
        }
        const deadline = Date.now() + options.timeout * 1000
        for (;;) {
          const now = (await broker.inspect(dlq))?.ready ?? 0
          if (now > before) return { queue, dlq, skipped: now - before, deadLetters: now }
          if (Date.now() > deadline) {
            throw new CliError(
              `skip sent, but no message reached ${dlq} within ${options.timeout}s: is a consumer of ${queue} stuck in a blocking retry?`
            )
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })
      if (options.json) printJson(result)
      else process.stdout.write(`skipped: ${result.skipped} message(s) moved from ${result.queue} to ${result.dlq} (now ${result.deadLetters} there)\n`)
    })
}
