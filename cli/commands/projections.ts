import type { Channel } from 'amqplib'
import type { Command } from 'commander'
import type { Knex } from 'knex'
import { schemaName } from '../../shared/db/database.ts'
import { eventLogQueue } from '../../services/storefronts/log/event-log.ts'
import { logEnds, peekLog, type LogEnds } from '../../services/storefronts/log/log-ends.ts'
import { listVersions, requestRebuild, STOREFRONT, type ProjectionVersion } from '../../services/storefronts/projection/versions.ts'
import { withBroker } from '../lib/broker.ts'
import { contextOf, positiveNumber, type CliContext } from '../lib/context.ts'
import { withDatabase } from '../lib/database.ts'
import { CliError, usageError } from '../lib/errors.ts'
import { formatAge, printJson, printTable, type OutputOptions } from '../lib/output.ts'

/** The projections there are, by the name the operator types. */
const known = [STOREFRONT]

interface RebuildOptions extends OutputOptions {
  wait?: boolean
  timeout: number
}

/** A projection version as status reports it. */
export interface VersionStatus {
  name: string
  version: number
  state: ProjectionVersion['state']
  /** offset of the last log entry applied; -1 before the first */
  position: number
  /** log offsets not applied yet: the newest offset minus the position (the broker may leave a few offsets unused, so at most this) */
  lag: number
  /** how long the oldest entry not applied yet has been in the log; 0 when caught up */
  lagAgeMs: number
  skipped: number
  reason: string | null
  liveAt: string | null
  updatedAt: string
}

export function registerProjections(program: Command): void {
  const projections = program
    .command('projections')
    .description('read models built from the event log: their position, lag and version; rebuild one beside the live one')

  projections
    .command('status')
    .description('each projection version: state, position in the log, lag (offsets and age), entries skipped')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions, command: Command) => {
      const context = contextOf(command)
      const versions = await readVersions(context)
      const log = await withBroker(context, async (broker) => {
        const ends = await logEnds(await broker.channel(), eventLogQueue(context.namespace))
        if (!ends) throw new CliError(`namespace ${context.namespace} has no event log ${eventLogQueue(context.namespace)}: is the storefronts service deployed?`)
        return { ends, statuses: await Promise.all(versions.map(async (v) => statusOf(v, ends, await oldestUnapplied(broker.channel(), ends, v)))) }
      })
      if (options.json) printJson({ namespace: context.namespace, log: log.ends, projections: log.statuses })
      else printStatus(context, log.ends, log.statuses)
    })

  projections
    .command('rebuild')
    .description('build a new version of a projection beside the live one, from the start of the log; it replaces the live one once caught up')
    .argument('<name>', `the projection (${known.join(', ')})`)
    .option('--wait', 'wait until the new version is live (or failed)')
    .option('--timeout <seconds>', 'with --wait: how long at most', positiveNumber('--timeout'), 600)
    .option('--json', 'print the new version as JSON')
    .action(async (name: string, options: RebuildOptions, command: Command) => {
      if (!known.includes(name)) throw usageError(`unknown projection "${name}" (known: ${known.join(', ')})`)
      const context = contextOf(command)
      const schema = schemaName(context.namespace, 'storefronts')
      const result = await withDatabase(context.env.databaseUrl, async (db) => {
        await requireProjections(db, context)
        const live = (await listVersions(db, schema)).find((v) => v.state === 'live')
        const requested = await requestRebuild(db, schema).catch((err: Error) => {
          throw new CliError(err.message)
        })
        const finished = options.wait ? await waitForEnd(db, schema, requested.version, options.timeout) : undefined
        return { requested, live, finished }
      })
      const { requested, live, finished } = result
      if (options.json) printJson({ name, version: requested.version, state: finished?.state ?? requested.state, replaces: live?.version ?? null })
      else if (finished) process.stdout.write(`${name} version ${requested.version} is live (it replaced version ${live?.version ?? '-'})\n`)
      else process.stdout.write(`rebuilding ${name} as version ${requested.version} beside live version ${live?.version ?? '-'}; \`bazaar projections status\` shows its progress\n`)
    })
}

async function readVersions(context: CliContext): Promise<ProjectionVersion[]> {
  return withDatabase(context.env.databaseUrl, async (db) => {
    await requireProjections(db, context)
    return listVersions(db, schemaName(context.namespace, 'storefronts'))
  })
}

/** The storefronts service creates its tables at its first start: without them there is nothing to report or rebuild. */
async function requireProjections(db: Knex, context: CliContext): Promise<void> {
  const schema = schemaName(context.namespace, 'storefronts')
  const { rows } = await db.raw<{ rows: Array<{ t: string | null }> }>('select to_regclass(?) as t', [`"${schema}".projections`])
  if (!rows[0]?.t) throw new CliError(`namespace ${context.namespace} has no projections (no table ${schema}.projections): is the storefronts service deployed?`)
}

/** Polls the version's row until it is live, or fails with its reason, within the timeout. */
async function waitForEnd(db: Knex, schema: string, version: number, timeoutSeconds: number): Promise<ProjectionVersion> {
  const deadline = Date.now() + timeoutSeconds * 1000
  for (;;) {
    const row = (await listVersions(db, schema)).find((v) => v.version === version)
    if (!row) throw new CliError(`version ${version} disappeared while rebuilding`)
    if (row.state === 'live' || row.state === 'retired') return row
    if (row.state === 'failed') throw new CliError(`rebuild of version ${version} failed: ${row.reason}`)
    if (Date.now() > deadline) throw new CliError(`version ${version} not live after ${timeoutSeconds}s (at offset ${row.position}); it goes on in the service`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** When the first entry after a version's position came into the log, if it is behind. */
async function oldestUnapplied(channel: Promise<Channel>, ends: LogEnds, version: ProjectionVersion): Promise<Date | undefined> {
  if (ends.lastOffset === undefined || ends.lastOffset <= version.position || !isActive(version)) return undefined
  const [first] = await peekLog(await channel, ends.queue, version.position + 1, { max: 1 })
  return first?.at
}

const isActive = (v: ProjectionVersion) => v.state === 'live' || v.state === 'building'

function statusOf(v: ProjectionVersion, ends: LogEnds, oldest: Date | undefined, now = Date.now()): VersionStatus {
  const lag = isActive(v) && ends.lastOffset !== undefined ? Math.max(0, ends.lastOffset - v.position) : 0
  return {
    name: v.name,
    version: v.version,
    state: v.state,
    position: v.position,
    lag,
    lagAgeMs: lag > 0 && oldest ? Math.max(0, now - oldest.getTime()) : 0,
    skipped: v.skipped,
    reason: v.reason,
    liveAt: v.liveAt ? new Date(v.liveAt).toISOString() : null,
    updatedAt: new Date(v.updatedAt).toISOString()
  }
}

function printStatus(context: CliContext, ends: LogEnds, statuses: VersionStatus[]): void {
  const newest = ends.lastOffset === undefined ? 'empty' : `newest offset ${ends.lastOffset}`
  printTable(
    ['projection', 'version', 'state', 'position', 'lag', 'lag age', 'skipped', 'live since', 'note'],
    statuses.map((s) => [s.name, s.version, s.state, s.position, s.lag, s.lag > 0 ? formatAge(s.lagAgeMs) : '0s', s.skipped, s.liveAt, s.reason]),
    { title: `Projections in namespace ${context.namespace} (log ${ends.queue}: ${ends.messages} messages, ${newest})` }
  )
}
