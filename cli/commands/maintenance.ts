import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import {
  MAINTENANCE_CANCELLED,
  MAINTENANCE_SCHEDULED,
  type MaintenanceCancelled,
  type MaintenanceScheduled
} from '../../shared/contracts/maintenance.ts'
import { withBroker } from '../lib/broker.ts'
import { contextOf } from '../lib/context.ts'
import { CliError, usageError } from '../lib/errors.ts'
import { printJson, type OutputOptions } from '../lib/output.ts'

interface AnnounceOptions extends OutputOptions {
  message: string
  startsAt: string
  endsAt: string
}

interface CancelOptions extends OutputOptions {
  id?: string
}

export function registerMaintenance(program: Command): void {
  const maintenance = program.command('maintenance').description('maintenance notices pushed to every connected client')

  maintenance
    .command('announce')
    .description(`publish ${MAINTENANCE_SCHEDULED} (validated, confirmed by the broker)`)
    .requiredOption('--message <text>', 'what clients are told')
    .requiredOption('--starts-at <iso>', 'start, ISO 8601 (e.g. 2030-01-01T02:00:00Z)', isoTime('--starts-at'))
    .requiredOption('--ends-at <iso>', 'end, ISO 8601', isoTime('--ends-at'))
    .option('--json', 'print the published notice as JSON')
    .action(async (options: AnnounceOptions, command: Command) => {
      if (!options.message.trim()) throw usageError('--message must not be empty')
      if (Date.parse(options.endsAt) <= Date.parse(options.startsAt)) throw usageError('--ends-at must be after --starts-at')
      const context = contextOf(command)
      const notice: MaintenanceScheduled = { id: randomUUID(), message: options.message, startsAt: options.startsAt, endsAt: options.endsAt }
      const published = await withBroker(context, async (broker) => (await broker.publisher()).publish(MAINTENANCE_SCHEDULED, notice))
      if (!published.routed) throw unrouted(MAINTENANCE_SCHEDULED, context.namespace)
      rememberNotice(context.namespace, notice.id)
      if (options.json) printJson({ ...notice, messageId: published.messageId })
      else process.stdout.write(`announced maintenance ${notice.id}: ${notice.message} (${notice.startsAt} to ${notice.endsAt})\n`)
    })

  maintenance
    .command('cancel')
    .description(`publish ${MAINTENANCE_CANCELLED} for a notice`)
    .option('--id <id>', 'the notice to cancel (default: the last one announced from this machine)')
    .option('--json', 'print the published cancellation as JSON')
    .action(async (options: CancelOptions, command: Command) => {
      const context = contextOf(command)
      const id = options.id ?? lastNotice(context.namespace)
      if (!id) throw usageError('no --id given and no notice was announced from this machine; pass --id')
      const cancellation: MaintenanceCancelled = { id, cancelledAt: new Date().toISOString() }
      const published = await withBroker(context, async (broker) => (await broker.publisher()).publish(MAINTENANCE_CANCELLED, cancellation))
      if (!published.routed) throw unrouted(MAINTENANCE_CANCELLED, context.namespace)
      if (options.json) printJson({ ...cancellation, messageId: published.messageId })
      else process.stdout.write(`cancelled maintenance ${id}\n`)
    })
}

function isoTime(name: string) {
  return (value: string): string => {
    const at = Date.parse(value)
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) || Number.isNaN(at)) {
      throw usageError(`${name} must be an ISO 8601 date-time such as 2030-01-01T02:00:00Z (got ${JSON.stringify(value)})`)
    }
    return new Date(at).toISOString()
  }
}

function unrouted(key: string, namespace: string): CliError {
  return new CliError(`${key} was confirmed but no queue in namespace ${namespace} is bound to it, so no client will see it: is the gateway deployed?`)
}

/** The last notice announced from this machine, per namespace, so `cancel` needs no id in the common case. */
function stateFile(namespace: string): string {
  const dir = join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'bazaar')
  return join(dir, `maintenance-${namespace}.json`)
}

function rememberNotice(namespace: string, id: string): void {
  try {
    const file = stateFile(namespace)
    mkdirSync(join(file, '..'), { recursive: true })
    writeFileSync(file, JSON.stringify({ id, announcedAt: new Date().toISOString() }))
  } catch {
    // only a convenience for `cancel` without --id
  }
}

function lastNotice(namespace: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(stateFile(namespace), 'utf8')) as { id?: string }).id
  } catch {
    return undefined
  }
}
