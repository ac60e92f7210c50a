import { EventEmitter } from 'node:events'
import type { Knex } from 'knex'
import type { BusConnection } from '../../../shared/bus/connection.ts'
import { StreamReader, type StreamMessage } from '../../../shared/bus/stream-reader.ts'
import type { QueueSpec } from '../../../shared/bus/topology.ts'
import type { Logger } from '../../../shared/log/logger.ts'
import { applyEntry, refreshProductLists, sellerOf } from './apply.ts'
import { notifyChanged, type Changed } from '../pages/invalidation.ts'
import { failVersion, lockVersion, recordPosition, swapIfCaughtUp, type ProjectionVersion } from './versions.ts'

export interface ProjectorOptions {
  connection: BusConnection
  db: Knex
  schema: string
  /** the log's stream queue */
  log: QueueSpec
  /** log entries applied in one transaction at most */
  batchSize: number
  /** pause before reading again after a batch failed to commit */
  retryDelayMs?: number
  logger?: Logger
}

export interface ProjectorEvents {
  /** a batch committed: the version's row as it is now */
  applied: [version: ProjectionVersion]
  /** this (building) version became live; `retired` is the one it replaced */
  swapped: [version: number, retired: number | undefined]
  /** the version is no longer live or building (retired, failed, gone): this projector has nothing left to do */
  finished: [version: number]
  /**
   * After a batch's transaction, the live version's pages that may have changed: the sellers of every
   * entry of the batch (applied by this instance or, already, by another), or `*` for all of them
   * when this version became live. Emitted after the commit and before `applied`.
   */
  changed: [version: number, sellers: Changed]
}

/**
 * Keeps one version of the storefront projection: reads the log after that
 * version's stored position and applies what it read in batches, each in one
 * transaction with the new position (the version's row locked for it). So a
 * crash or a restart re-reads at most the batch that did not commit, an
 * entry at or below the position is never applied again, and two instances
 * keeping the same version take turns instead of doubling anything.
 *
 * The stream reader hands messages over one at a time; they are gathered
 * here and committed together. A batch that fails to commit throws the
 * reader away with everything gathered after it, and a new one starts after
 * the stored position: the position in the database is the only one.
 */
export class Projector extends EventEmitter<ProjectorEvents> {
  private reader?: StreamReader
  /** a new one for every reader: what an older reader gathered is dropped */
  private generation = 0
  private pending: StreamMessage[] = []
  private flushing?: Promise<void>
  /** retention removed entries between the stored position and what the reader got first */
  private gap?: { expected: number; got: number }
  private restart?: NodeJS.Timeout
  private stopped = true
  /** the version's state at its last batch: building to live (whoever swapped) changes every page */
  private state?: ProjectionVersion['state']

  constructor(
    readonly version: number,
    private readonly options: ProjectorOptions
  ) {
    super()
  }

  async start(): Promise<void> {
    this.stopped = false
    await this.read()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.restart)
    this.generation++
    this.pending = []
    await this.reader?.stop()
    await this.flushing
  }

  private async read(): Promise<void> {
    const generation = ++this.generation
    this.pending = []
    this.gap = undefined
    const row = await this.options.db.withSchema(this.options.schema).table('projections').where({ version: this.version }).first('position')
    const position = row ? Number(row.position) : -1
    const reader = new StreamReader(this.options.connection, {
      label: `storefront v${this.version}`,
      stream: this.options.log,
      // offset 0, not 'first': a log whose start retention removed says so (a gap) instead of passing unnoticed
      from: position >= 0 ? { after: position } : { offset: 0 },
      handle: (message) => this.gather(generation, message),
      prefetch: this.options.batchSize * 2,
      logger: this.options.logger
    })
    reader.on('gap', (expected, got) => {
      if (generation === this.generation) this.gap = { expected, got }
    })
    this.reader = reader
    await reader.start()
  }

  /** Takes one message into the batch being gathered; waits once a whole batch is waiting (backpressure). */
  private async gather(generation: number, message: StreamMessage): Promise<void> {
    if (generation !== this.generation) return
    this.pending.push(message)
    this.flushing ??= this.flush(generation).finally(() => (this.flushing = undefined))
    if (this.pending.length >= this.options.batchSize) await this.flushing
  }

  private async flush(generation: number): Promise<void> {
    // let the reader hand over what it already has, so a burst is one batch, not one per message
    await new Promise((resolve) => setImmediate(resolve))
    while (generation === this.generation && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.batchSize)
      try {
        await this.commit(batch)
      } catch (err) {
        this.options.logger?.warn({ err: (err as Error).message, version: this.version }, 'storefront batch not applied; reading again after the stored position')
        this.readAgain()
        return
      }
    }
  }

  /** Drops the reader and what it gathered; a new one starts after the stored position, after a pause. */
  private readAgain(): void {
    this.generation++
    this.pending = []
    // not awaited: the old reader may be waiting on this very flush
    void this.reader?.stop()
    this.restart = setTimeout(() => {
      if (!this.stopped) this.read().catch(() => this.readAgain())
    }, this.options.retryDelayMs ?? 1_000)
    this.restart.unref()
  }

  private async commit(batch: StreamMessage[]): Promise<void> {
    const { db, schema, logger } = this.options
    const gap = this.gap
    const outcome = await db.transaction(async (trx) => {
      const row = await lockVersion(trx, schema, this.version)
      if (!row || (row.state !== 'live' && row.state !== 'building')) return { finished: true }
      const fresh = batch.filter((entry) => entry.offset > row.position)
      if (fresh.length === 0) return { row }
      // every instance drops these pages once this commits (the NOTIFY goes out with the commit, not before)
      if (row.state === 'live') await notifyChanged(trx, schema, sellersOf(fresh))
      let reason = row.reason
      if (gap) {
        const lost = row.position < 0
          ? `the log no longer starts at offset 0: retention removed what came before offset ${gap.got}`
          : `retention removed entries of the log between offsets ${gap.expected} and ${gap.got}`
        if (row.state === 'building') {
          await failVersion(trx, schema, this.version, `${lost}: a rebuild from it would miss events`)
          return { finished: true }
        }
        logger?.error({ version: this.version }, `storefront projection: ${lost}; it carries on without those events`)
        reason = lost
      }
      let skipped = row.skipped
      const target = { trx, schema, version: this.version }
      const listed = new Set<string>()
      for (const entry of fresh) {
        const applied = await applyEntry(target, entry)
        if (applied.listed) listed.add(applied.listed)
        if (!applied.skipped) continue
        skipped++
        reason = `offset ${entry.offset} (${entry.routingKey}): ${applied.skipped}`
        logger?.warn({ offset: entry.offset, routingKey: entry.routingKey, reason: applied.skipped }, 'storefront projection skipped a log entry')
      }
      await refreshProductLists(target, [...listed])
      const last = fresh[fresh.length - 1]!
      const timestamp = Number(last.properties.timestamp)
      const next = { position: last.offset, positionAt: timestamp ? new Date(timestamp * 1000) : null, skipped, reason }
      await recordPosition(trx, schema, this.version, next)
      const updated: ProjectionVersion = { ...row, ...next }
      if (row.state !== 'building') return { row: updated }
      const swap = await swapIfCaughtUp(trx, schema, updated)
      if (swap.swapped) await notifyChanged(trx, schema, '*')
      return swap.swapped ? { row: { ...updated, state: 'live' as const }, swapped: true, retired: swap.retired } : { row: updated }
    })
    if (gap === this.gap) this.gap = undefined
    if (outcome.finished) {
      this.generation++
      this.pending = []
      this.state = undefined
      this.emit('finished', this.version)
      return
    }
    if (outcome.row) {
      const before = this.state
      this.state = outcome.row.state
      if (outcome.row.state === 'live') this.emit('changed', this.version, before === 'building' ? '*' : sellersOf(batch))
      this.emit('applied', outcome.row)
    }
    if (outcome.swapped) this.emit('swapped', this.version, outcome.retired)
  }
}

/** The sellers whose pages these entries may change, each once. */
function sellersOf(entries: StreamMessage[]): string[] {
  const sellers = new Set<string>()
  for (const entry of entries) {
    const seller = sellerOf(entry)
    if (seller) sellers.add(seller)
  }
  return [...sellers]
}
