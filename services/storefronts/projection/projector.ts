import { EventEmitter } from 'node:events'
import type { Knex } from 'knex'
import type { BusConnection } from '../../../shared/bus/connection.ts'
import type { Logger } from '../../../shared/log/logger.ts'
import { StreamReader, type LogEntry } from '../log/stream-reader.ts'
import { applyEntry } from './apply.ts'
import { failVersion, lockVersion, recordPosition, swapIfCaughtUp, type ProjectionVersion } from './versions.ts'

export interface ProjectorOptions {
  connection: BusConnection
  db: Knex
  schema: string
  /** the log's stream queue */
  queue: string
  batchSize: number
  logger?: Logger
}

export interface ProjectorEvents {
  /** a batch committed: the version's row as it is now */
  applied: [version: ProjectionVersion]
  /** this (building) version became live; `retired` is the one it replaced */
  swapped: [version: number, retired: number | undefined]
  /** the version is no longer live or building (retired, failed, gone): this projector has nothing left to do */
  finished: [version: number]
}

/**
 * Keeps one version of the storefront projection: reads the log from that
 * version's stored position + 1 and applies each batch in one transaction
 * with the new position (the version's row locked for it). So a crash or a
 * restart re-reads at most the batch that did not commit, an entry at or
 * below the position is never applied again, and two instances keeping the
 * same version take turns instead of doubling anything.
 */
export class Projector extends EventEmitter<ProjectorEvents> {
  private readonly reader: StreamReader

  constructor(
    readonly version: number,
    private readonly options: ProjectorOptions
  ) {
    super()
    this.reader = new StreamReader(options.connection, {
      queue: options.queue,
      label: `storefront v${version}`,
      from: async () => this.resumeAt(),
      handle: (batch) => this.apply(batch),
      maxBatch: options.batchSize,
      prefetch: options.batchSize * 2,
      logger: options.logger
    })
  }

  async start(): Promise<void> {
    await this.reader.start()
  }

  async stop(): Promise<void> {
    await this.reader.stop()
  }

  private async resumeAt(): Promise<number> {
    const row = await this.options.db.withSchema(this.options.schema).table('projections').where({ version: this.version }).first('position')
    return row ? Number(row.position) + 1 : 0
  }

  private async apply(batch: LogEntry[]): Promise<void> {
    const { db, schema, logger } = this.options
    const outcome = await db.transaction(async (trx) => {
      const row = await lockVersion(trx, schema, this.version)
      if (!row || (row.state !== 'live' && row.state !== 'building')) return { finished: true }
      const fresh = batch.filter((entry) => entry.offset > row.position)
      if (fresh.length === 0) return { row }
      const expected = row.position + 1
      let reason = row.reason
      if (fresh[0]!.offset !== expected) {
        const gap = `the log no longer holds offsets ${expected} to ${fresh[0]!.offset - 1} (retention removed them)`
        if (row.state === 'building') {
          await failVersion(trx, schema, this.version, `${gap}: a rebuild from it would miss them`)
          return { finished: true }
        }
        logger?.error({ version: this.version }, `storefront projection: ${gap}; it carries on without them`)
        reason = gap
      }
      let skipped = row.skipped
      for (const entry of fresh) {
        const applied = await applyEntry({ trx, schema, version: this.version }, entry)
        if (applied.skipped) {
          skipped++
          reason = `offset ${entry.offset} (${entry.routingKey}): ${applied.skipped}`
          logger?.warn({ offset: entry.offset, routingKey: entry.routingKey, reason: applied.skipped }, 'storefront projection skipped a log entry')
        }
      }
      const last = fresh[fresh.length - 1]!
      const timestamp = Number(last.message.properties.timestamp)
      const next = { position: last.offset, positionAt: timestamp ? new Date(timestamp * 1000) : null, skipped, reason }
      await recordPosition(trx, schema, this.version, next)
      const updated: ProjectionVersion = { ...row, ...next }
      if (row.state !== 'building') return { row: updated }
      const swap = await swapIfCaughtUp(trx, schema, updated)
      return swap.swapped ? { row: { ...updated, state: 'live' as const }, swapped: true, retired: swap.retired } : { row: updated }
    })
    if (outcome.finished) {
      this.emit('finished', this.version)
      return
    }
    if (outcome.row) this.emit('applied', outcome.row)
    if (outcome.swapped) this.emit('swapped', this.version, outcome.retired)
  }
}
