import type { Knex } from 'knex'
import type { Logger } from '../../../shared/log/logger.ts'
import type { StreamHub } from './hub.ts'
import { PgListener } from '../../../shared/db/listener.ts'

/** The NOTIFY channel on which a revoked appliance's id is announced to every gateway instance. */
export const revocationChannel = (schema: string) => `${schema}_revoked`

/**
 * Ends the open streams of revoked appliances on every instance: the revoking
 * instance notifies (in the revoking transaction) and every instance listens.
 * A periodic check covers notifications missed while the listener reconnected.
 */
export class RevocationListener {
  private readonly listener: PgListener
  private timer?: NodeJS.Timeout

  constructor(
    private readonly options: { databaseUrl: string; db: Knex; schema: string; hub: StreamHub; logger?: Logger; checkIntervalMs?: number }
  ) {
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: revocationChannel(options.schema),
      onNotification: (applianceId) => void options.hub.endAppliance(applianceId),
      onListening: (reconnected) => (reconnected ? this.check() : undefined),
      logger: options.logger
    })
  }

  async start(): Promise<void> {
    await this.listener.start()
    this.timer = setInterval(() => void this.check().catch(() => {}), this.options.checkIntervalMs ?? 15_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.listener.stop()
  }

  /** Ends streams of appliances revoked while we may not have been listening. */
  async check(): Promise<void> {
    const ids = this.options.hub.applianceIds()
    if (ids.length === 0) return
    const revoked = await this.options.db(`${this.options.schema}.appliances`).whereIn('id', ids).whereNotNull('revoked_at').pluck('id')
    for (const id of revoked) this.options.hub.endAppliance(id)
  }
}
