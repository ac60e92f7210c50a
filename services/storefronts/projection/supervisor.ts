import { EventEmitter } from 'node:events'
import { PgListener } from '../../../shared/db/listener.ts'
import { Projector, type ProjectorEvents, type ProjectorOptions } from './projector.ts'
import { ensureLiveVersion, listVersions, projectionsChannel, removeVersionRows } from './versions.ts'

export interface SupervisorOptions extends ProjectorOptions {
  databaseUrl: string
  pollIntervalMs: number
}

/**
 * Runs a projector for each version that is live or building, as the
 * `projections` table says: a rebuild request (the CLI inserts a building
 * version and NOTIFYs) starts one beside the live one; a swap or failure
 * ends the one with nothing left to do and removes the rows no read can
 * reach any more. Hears NOTIFY, and looks again every `pollIntervalMs` in
 * case one was missed. Every instance runs the same projectors; their
 * batches take turns on the version's row.
 */
export class ProjectionSupervisor extends EventEmitter<ProjectorEvents> {
  private readonly running = new Map<number, Projector>()
  private readonly listener: PgListener
  private timer?: NodeJS.Timeout
  private syncing = Promise.resolve()
  private stopped = true

  constructor(private readonly options: SupervisorOptions) {
    super()
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: projectionsChannel(options.schema),
      onNotification: () => this.requestSync(),
      onListening: () => this.requestSync(),
      logger: options.logger
    })
  }

  /** The versions this instance is keeping now. */
  get versions(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b)
  }

  async start(): Promise<void> {
    this.stopped = false
    await ensureLiveVersion(this.options.db, this.options.schema)
    await this.listener.start()
    this.requestSync()
    await this.syncing
    this.timer = setInterval(() => this.requestSync(), this.options.pollIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.listener.stop()
    await this.syncing
    await Promise.all([...this.running.values()].map((p) => p.stop()))
    this.running.clear()
  }

  /** Syncs once the sync in progress (if any) is done: never two at once. */
  requestSync(): void {
    this.syncing = this.syncing.then(() => this.sync()).catch((err: Error) => {
      this.options.logger?.warn({ err: err.message }, 'storefront projections not synced; trying again at the next poll')
    })
  }

  private async sync(): Promise<void> {
    if (this.stopped) return
    const { db, schema } = this.options
    const versions = await listVersions(db, schema)
    const active = new Set(versions.filter((v) => v.state === 'live' || v.state === 'building').map((v) => v.version))
    for (const [version, projector] of this.running) {
      if (active.has(version)) continue
      this.running.delete(version)
      await projector.stop()
    }
    for (const version of active) {
      if (this.running.has(version) || this.stopped) continue
      const projector = new Projector(version, this.options)
      projector.on('changed', (v, sellers) => this.emit('changed', v, sellers))
      projector.on('applied', (row) => this.emit('applied', row))
      projector.on('finished', (v) => {
        this.emit('finished', v)
        this.requestSync()
      })
      projector.on('swapped', (v, retired) => {
        this.emit('swapped', v, retired)
        this.requestSync()
      })
      this.running.set(version, projector)
      await projector.start()
    }
    for (const { version, state } of versions) {
      if (state === 'retired' || state === 'failed') await removeVersionRows(db, schema, version)
    }
  }
}
