import pg from 'pg'
import type { Logger } from '../log/logger.ts'

export interface PgListenerOptions {
  databaseUrl: string
  channel: string
  onNotification: (payload: string) => void
  /**
   * After each LISTEN that took, `reconnected` false the first time: a
   * notification sent while not listening is lost, so the owner looks again.
   */
  onListening?: (reconnected: boolean) => void | Promise<void>
  /** wait before connecting again after the connection is lost or refused (default 1 s) */
  retryDelayMs?: number
  logger?: Logger
}

/**
 * One PostgreSQL connection LISTENing on one channel, connected again after
 * it is lost, for as long as it is not stopped. `start()` does not fail when
 * PostgreSQL is away: it keeps trying in the background.
 */
export class PgListener {
  private client?: pg.Client
  private stopped = true
  private listenedOnce = false
  private retry?: NodeJS.Timeout

  constructor(private readonly options: PgListenerOptions) {}

  async start(): Promise<void> {
    this.stopped = false
    await this.listen()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retry)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }

  /** Whether the LISTEN is in place now. */
  get listening(): boolean {
    return this.client !== undefined
  }

  private async listen(): Promise<void> {
    if (this.stopped) return
    const client = new pg.Client({ connectionString: this.options.databaseUrl })
    client.on('error', () => {}) // a lost server ends the client: 'end' below connects again
    client.on('notification', (message) => {
      if (message.payload) this.options.onNotification(message.payload)
    })
    client.on('end', () => {
      if (this.client !== client || this.stopped) return
      this.client = undefined
      this.again()
    })
    try {
      await client.connect()
      await client.query(`listen "${this.options.channel.replace(/"/g, '""')}"`)
    } catch (err) {
      await client.end().catch(() => {})
      this.options.logger?.warn({ err: (err as Error).message, channel: this.options.channel }, 'LISTEN failed; retrying')
      this.again()
      return
    }
    if (this.stopped) {
      await client.end().catch(() => {})
      return
    }
    this.client = client
    const reconnected = this.listenedOnce
    this.listenedOnce = true
    try {
      await this.options.onListening?.(reconnected)
    } catch (err) {
      this.options.logger?.warn({ err: (err as Error).message, channel: this.options.channel }, 'catching up after LISTEN failed')
    }
  }

  private again(): void {
    if (this.stopped) return
    this.retry = setTimeout(() => void this.listen(), this.options.retryDelayMs ?? 1_000)
    this.retry.unref()
  }
}
