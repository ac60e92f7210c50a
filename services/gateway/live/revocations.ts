import pg from 'pg'
import type { Knex } from 'knex'
import type { Logger } from '../../../shared/log/logger.ts'
import type { StreamHub } from './hub.ts'

/** The NOTIFY channel on which a revoked appliance's id is announced to every gateway instance. */
export const revocationChannel = (schema: string) => `${schema}_revoked`

/**
 * Ends the open streams of revoked appliances on every instance: the revoking
 * instance notifies (in the revoking transaction) and every instance listens.
 * A periodic check covers notifications missed while the listener reconnected.
 */
export class RevocationListener {
  private client?: pg.Client
  private timer?: NodeJS.Timeout
  private stopped = true

  constructor(
    private readonly options: { databaseUrl: string; db: Knex; schema: string; hub: StreamHub; logger?: Logger; checkIntervalMs?: number }
  ) {}

  async start(): Promise<void> {
    this.stopped = false
    await this.listen()
    this.timer = setInterval(() => void this.check().catch(() => {}), this.options.checkIntervalMs ?? 15_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }

  /** Ends streams of appliances revoked while we may not have been listening. */
  async check(): Promise<void> {
    const ids = this.options.hub.applianceIds()
    if (ids.length === 0) return
    const revoked = await this.options.db(`${this.options.schema}.appliances`).whereIn('id', ids).whereNotNull('revoked_at').pluck('id')
    for (const id of revoked) this.options.hub.endAppliance(id)
  }

  private async listen(): Promise<void> {
    if (this.stopped) return
    const client = new pg.Client({ connectionString: this.options.databaseUrl })
    client.on('error', () => {})
    client.on('notification', (message) => {
      if (message.payload) this.options.hub.endAppliance(message.payload)
    })
    client.on('end', () => {
      if (this.client !== client || this.stopped) return
      this.client = undefined
      setTimeout(() => void this.listen().then(() => this.check()).catch(() => {}), 1_000).unref()
    })
    try {
      await client.connect()
      await client.query(`listen "${revocationChannel(this.options.schema)}"`)
      this.client = client
    } catch (err) {
      await client.end().catch(() => {})
      this.options.logger?.warn({ err: (err as Error).message }, 'revocation LISTEN failed; retrying')
      setTimeout(() => void this.listen().catch(() => {}), 1_000).unref()
    }
  }
}
