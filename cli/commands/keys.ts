import type { Command } from 'commander'
import type { Knex } from 'knex'
import { names } from '../../shared/bus/names.ts'
import { skippedLetter } from '../../shared/bus/park-letters.ts'
import { ParkStore, type ParkedKey } from '../../shared/bus/park-store.ts'
import { schemaName } from '../../shared/db/database.ts'
import { withBroker } from '../lib/broker.ts'
import { contextOf, type CliContext } from '../lib/context.ts'
import { withDatabase } from '../lib/database.ts'
import { CliError, usageError } from '../lib/errors.ts'
import { formatAge, printJson, printTable, type OutputOptions } from '../lib/output.ts'

interface ListOptions extends OutputOptions {
  service?: string
}

/** A partitioned consumer named on the command line: `<service>.<purpose>`, namespace prefix optional. */
interface ConsumerRef {
  /** its queue name, the `consumer` of its parked keys */
  queue: string
  service: string
  schema: string
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('parked keys of partitioned consumers: a key whose handler kept failing waits, with its later messages, while other keys flow')

  keys
    .command('list')
    .description('every parked key: consumer, key, messages waiting, retries of its head, next retry, last error')
    .option('--service <service>', 'only this service\'s consumers')
    .option('--json', 'print JSON')
    .action(async (options: ListOptions, command: Command) => {
      const context = contextOf(command)
      const parked = await withDatabase(context.env.databaseUrl, (db) => parkedKeys(db, context.namespace, options.service))
      if (options.json) return printJson({ namespace: context.namespace, keys: parked.map(({ service, ...key }) => ({ service, ...describe(key) })) })
      const now = Date.now()
      printTable(
        ['service', 'consumer', 'key', 'messages', 'retries', 'parked', 'next retry in', 'last error'],
        parked.map((k) => [k.service, k.consumer, k.key, k.messages, k.attempts, formatAge(now - k.parkedAt.getTime()), formatAge(Math.max(0, k.nextRetryAt.getTime() - now)), k.lastError?.slice(0, 80)]),
        { title: `Parked keys in namespace ${context.namespace}`, empty: '(no parked keys)' }
      )
    })

  keyCommand(keys, 'retry', 'retry a parked key\'s head message now, instead of at its next backoff')
    .action(async (consumer: string, key: string, options: OutputOptions, command: Command) => {
      const context = contextOf(command)
      const ref = consumerRef(context, consumer)
      const retried = await withParkStore(context, ref, (store) => store.retryNow(ref.queue, key))
      if (!retried) throw notParked(ref, key)
      if (options.json) printJson({ consumer: ref.queue, key, retryDue: true })
      else process.stdout.write(`retry due now: ${key} of ${ref.queue} (a running consumer takes it within its poll interval)\n`)
    })

  const skipDescription = 'move a parked key\'s head message to the consumer\'s dead-letter queue ("skipped by operator"), then let the rest of the key drain in order'
  keyCommand(keys, 'skip', skipDescription)
    .action(async (consumer: string, key: string, options: OutputOptions, command: Command) => {
      const context = contextOf(command)
      const ref = consumerRef(context, consumer)
      const dlq = names.deadLetterQueue(ref.queue)
      const result = await withParkStore(context, ref, (store) =>
        withBroker(context, async (broker) => {
          const publisher = await broker.publisher()
          return store.skipHead(ref.queue, key, async (head, parked) => {
            const { routed } = await publisher.publishRaw(skippedLetter(ref.queue, head, parked))
            // Not routed: the message stays parked (the transaction rolls back), nothing is lost.
            if (!routed) throw new CliError(`dead-letter queue ${dlq} does not exist; nothing skipped`)
          })
        })
      )
      if (!result) throw notParked(ref, key)
      const summary = { consumer: ref.queue, key, skipped: result.skipped, deadLetterQueue: dlq, remaining: result.remaining, unparked: result.unparked }
      if (options.json) return printJson(summary)
      const then = result.unparked ? 'the key is unparked' : `${result.remaining} message(s) of the key drain next, in order`
      process.stdout.write(`skipped: message ${result.skipped ?? '(none)'} of ${key} moved to ${dlq}; ${then}\n`)
    })
}

/** A command on one parked key: `<consumer> <key> [--json]`. */
function keyCommand(keys: Command, name: string, description: string): Command {
  return keys
    .command(name)
    .description(description)
    .argument('<consumer>', 'the consumer: <service>.<purpose> (namespace prefix optional)')
    .argument('<key>', 'the parked key')
    .option('--json', 'print the result as JSON')
}

/** The parked keys of the consumer's service, or one line saying the service has none. */
function withParkStore<T>(context: CliContext, ref: ConsumerRef, work: (store: ParkStore) => Promise<T>): Promise<T> {
  return withDatabase(context.env.databaseUrl, async (db) => {
    const { rows } = await db.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [`"${ref.schema}".parked_keys`])
    if (!rows[0]?.t) throw new CliError(`service ${ref.service} has no parked keys table in schema ${ref.schema}: is it a service of this namespace, started at least once?`)
    return work(new ParkStore({ db, schema: ref.schema }))
  })
}

function consumerRef(context: CliContext, input: string): ConsumerRef {
  const ns = context.namespace
  const short = input.startsWith(`${ns}.`) ? input.slice(ns.length + 1) : input
  const [service, ...purpose] = short.split('.')
  if (!service || purpose.length === 0 || purpose.some((p) => !p)) {
    throw usageError(`consumer must be <service>.<purpose>, e.g. notifications.claims (got ${JSON.stringify(input)})`)
  }
  return { queue: names.queue(ns, service, purpose.join('.')), service, schema: schemaName(ns, service) }
}

const notParked = (ref: ConsumerRef, key: string) => new CliError(`no parked key ${JSON.stringify(key)} for consumer ${ref.queue}`)

/** The schemas of the namespace that have parked keys tables, with the service each belongs to. */
async function parkingSchemas(db: Knex, namespace: string, service?: string): Promise<Array<{ service: string; schema: string }>> {
  const prefix = schemaName(namespace, '')
  const { rows } = await db.raw<{ rows: Array<{ schema: string }> }>(
    "select table_schema as schema from information_schema.tables where table_name = 'parked_keys' and starts_with(table_schema, ?) order by 1",
    [prefix]
  )
  const found = rows.map((r) => ({ schema: r.schema, service: r.schema.slice(prefix.length) }))
  return service ? found.filter((s) => s.schema === schemaName(namespace, service)) : found
}

async function parkedKeys(db: Knex, namespace: string, service?: string): Promise<Array<ParkedKey & { service: string }>> {
  const result: Array<ParkedKey & { service: string }> = []
  for (const found of await parkingSchemas(db, namespace, service)) {
    for (const key of await new ParkStore({ db, schema: found.schema }).list()) result.push({ ...key, service: found.service })
  }
  return result
}

function describe(key: ParkedKey) {
  return { ...key, parkedAt: key.parkedAt.toISOString(), nextRetryAt: key.nextRetryAt.toISOString() }
}
