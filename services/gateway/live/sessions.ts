import type { Knex } from 'knex'
import type { Logger } from '../../../shared/log/logger.ts'
import type { StreamHub } from './hub.ts'
import { PgListener } from '../../../shared/db/listener.ts'

/** The NOTIFY channel on which `{ userId, sessionVersion }` of ended sessions reaches every gateway instance. */
export const sessionsChannel = (schema: string) => `${schema}_sessions`

/** How far back the periodic check looks before the newest change it has seen (commits land out of order). */
const overlapMs = 60_000

/**
 * Which user tokens are revoked, on this instance: each user's lowest valid
 * session version, in memory (loaded at start, so a request is judged without
 * a round trip), kept current from the `session_revocations` table that the
 * sessions consumer writes: it NOTIFYs every instance in the same
 * transaction, and each one then ends that user's older streams. A periodic
 * check covers notifications missed while the listener reconnected.
 */
export class SessionRevocations {
  private readonly minimum = new Map<string, number>()
  private readonly listener: PgListener
  private newest?: Date
  private timer?: NodeJS.Timeout

  constructor(
    private readonly options: { databaseUrl: string; db: Knex; schema: string; hub: StreamHub; logger?: Logger; checkIntervalMs?: number }
  ) {
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: sessionsChannel(options.schema),
      onNotification: (payload) => this.notified(payload),
      onListening: (reconnected) => (reconnected ? this.check() : undefined),
      logger: options.logger
    })
  }

  async start(): Promise<void> {
    // Listen first, then read: a revocation committed in between is both read and notified, never neither.
    await this.listener.start()
    await this.check()
    this.timer = setInterval(() => void this.check().catch(() => {}), this.options.checkIntervalMs ?? 15_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.listener.stop()
  }

  /** Whether a token of this user with this session version has been revoked (tokens without the claim are version 0). */
  isRevoked(userId: string, sessionVersion: number): boolean {
    return sessionVersion < (this.minimum.get(userId) ?? 0)
  }

  /** Reads what changed since the newest change seen (everything, the first time). */
  async check(): Promise<void> {
    let query = this.options.db(`${this.options.schema}.session_revocations`).select('user_id', 'session_version', 'updated_at')
    if (this.newest) query = query.where('updated_at', '>=', new Date(this.newest.getTime() - overlapMs))
    for (const row of await query) {
      const at = new Date(row.updated_at)
      if (!this.newest || at > this.newest) this.newest = at
      this.apply(row.user_id, row.session_version)
    }
  }

  private notified(payload: string): void {
    try {
      const { userId, sessionVersion } = JSON.parse(payload) as { userId?: unknown; sessionVersion?: unknown }
      if (typeof userId === 'string' && Number.isSafeInteger(sessionVersion)) this.apply(userId, sessionVersion as number)
    } catch (err) {
      this.options.logger?.warn({ err: (err as Error).message }, 'malformed session revocation notice')
    }
  }

  private apply(userId: string, sessionVersion: number): void {
    if (sessionVersion <= (this.minimum.get(userId) ?? 0)) return
    this.minimum.set(userId, sessionVersion)
    const ended = this.options.hub.endUserStreams(userId, sessionVersion)
    if (ended > 0) this.options.logger?.info({ userId, ended }, 'streams of ended sessions closed')
  }
}
