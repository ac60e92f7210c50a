import { Command, CommanderError } from 'commander'
import { registerAppliance } from './commands/appliance.ts'
import { registerConsumerSkip } from './commands/consumer-skip.ts'
import { registerDlq } from './commands/dlq/index.ts'
import { registerJobs } from './commands/jobs.ts'
import { registerKeys } from './commands/keys.ts'
import { registerMaintenance } from './commands/maintenance.ts'
import { registerSchedules } from './commands/schedules.ts'
import { registerProjections } from './commands/projections.ts'
import { registerSaga } from './commands/saga.ts'
import { registerStatus } from './commands/status.ts'
import { registerTopology } from './commands/topology.ts'
import { registerTrace } from './commands/trace.ts'
import { exitCodeOf, oneLine } from './lib/errors.ts'

/**
 * `bazaar`: the operator CLI. Tables for people, `--json` for scripts, and on
 * failure one line on stderr with a non-zero exit (2 for bad usage).
 */
export function createProgram(): Command {
  const program = new Command('bazaar')
    .description('Operate a Bazaar deployment: status, topology, dead-letter queues, jobs and schedules, parked keys, maintenance notices, request traces')
    .option('-n, --namespace <namespace>', 'deployment namespace (default: BAZAAR_NAMESPACE or "bazaar")')
    .option('--management-url <url>', 'RabbitMQ management API (default: RABBITMQ_MANAGEMENT_URL, or AMQP_URL\'s host on port 15672)')
    .option('--declarations <module>', 'also read consumer declarations (export consumers) from this module; repeatable', collect, [])
    .showSuggestionAfterError(true)
    .exitOverride()
    // Errors are printed by main() as one line; help shown for a missing sub-command goes to stdout.
    .configureOutput({ outputError: () => {}, writeErr: (text) => process.stdout.write(text) })
    .addHelpText('after', '\nEnvironment: AMQP_URL, DATABASE_URL, BAZAAR_NAMESPACE, RABBITMQ_MANAGEMENT_URL.')

  registerStatus(program)
  registerTopology(program)
  registerDlq(program)
  registerConsumerSkip(program)
  registerJobs(program)
  registerSchedules(program)
  registerKeys(program)
  registerMaintenance(program)
  registerAppliance(program)
  registerProjections(program)
  registerTrace(program)
  registerSaga(program)
  return program
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await createProgram().parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0 // --help, --version
      const message = err.code === 'commander.help' ? 'missing command (see the help above)' : err.message.replace(/^error: /, '')
      process.stderr.write(`bazaar: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
      return 2
    }
    process.stderr.write(`bazaar: ${oneLine(err)}\n`)
    if (process.env.BAZAAR_DEBUG) process.stderr.write(`${(err as Error).stack}\n`)
    return exitCodeOf(err)
  }
}

// `bazaar topology show | head`: once the reader has gone, the rest of the output is unwanted, not a failure.
// Without this listener the EPIPE of the next write is an unhandled 'error' event and a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const code = await main()
process.exitCode = code
// Connections are closed by now; do not let a stray timer keep the operator waiting.
setTimeout(() => process.exit(code), 2_000).unref()
