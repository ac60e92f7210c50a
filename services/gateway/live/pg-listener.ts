import pg from 'pg'
import type { Logger } from '../../../shared/log/logger.ts'

export interface PgListenerOptions {
  databaseUrl: string
  channel: string
  onNotification: (payload: string) => void
  /** after a reconnect: notifications sent while not listening are lost, so the owner looks again */
  onReconnected?: () => Promise<void>
  logger?: Logger
}

/**
 * One PostgreSQL connection LISTENing on one channel, connected again a
 * second after it is lost, for as long as it is not stopped.
 */
export class PgListener {
  private client?: pg.Client
  private stopped = true

  constructor(private readonly options: PgListenerOptions) {}

  async start(): Promise<void> {
    this.stopped = false
    await this.listen()
  }

  async stop(): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }

  private async listen(): Promise<void> {
    if (this.stopped) return
    const client = new pg.Client({ connectionString: this.options.databaseUrl })
    client.on('error', () => {})
    client.on('notification', (message) => {
      if (message.payload) this.options.onNotification(message.payload)
    })
    client.on('end', () => {
      if (this.client !== client || this.stopped) return
      this.client = undefined
      setTimeout(() => void this.listen().then(() => this.options.onReconnected?.()).catch(() => {}), 1_000).unref()
    })
    try {
      await client.connect()
      await client.query(`listen "${this.options.channel}"`)
      this.client = client
    } catch (err) {
      await client.end().catch(() => {})
      this.options.logger?.warn({ err: (err as Error).message, channel: this.options.channel }, 'LISTEN failed; retrying')
      setTimeout(() => void this.listen().catch(() => {}), 1_000).unref()
    }
  }
}
