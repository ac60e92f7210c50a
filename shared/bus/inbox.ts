import type { Knex } from 'knex'
import type { Logger } from '../log/logger.ts'
import type { RoutingKey } from '../contracts/index.ts'
import type { Envelope } from './envelope.ts'

export interface InboxOptions {
  db: Knex
  schema: string
  /** names the consumer in the inbox: one message may be processed once per consumer */
  consumer: string
  logger?: Logger
}

/**
 * Idempotent consumer: runs the effect inside a transaction that first records
 * (consumer, message id). A redelivered message finds its row and is acked
 * without running the effect again. Outbox writes made with the same `trx`
 * commit with the effect.
 */
export function idempotent<K extends RoutingKey>(
  options: InboxOptions,
  effect: (message: Envelope<K>, trx: Knex.Transaction) => Promise<void>
): (message: Envelope<K>) => Promise<void> {
  return async (message) => {
    await options.db.transaction(async (trx) => {
      const inserted = await trx
        .withSchema(options.schema)
        .table('inbox')
        .insert({ consumer: options.consumer, message_id: message.id })
        .onConflict(['consumer', 'message_id'])
        .ignore()
        .returning('message_id')
      if (inserted.length === 0) {
        options.logger?.info({ messageId: message.id, consumer: options.consumer }, 'duplicate delivery skipped')
        return
      }
      await effect(message, trx)
    })
  }
}

/** Deletes inbox rows older than the retention window, periodically. */
export class InboxJanitor {
  private timer?: NodeJS.Timeout

  constructor(
    private readonly options: { db: Knex; schema: string; retentionMs?: number; intervalMs?: number; logger?: Logger }
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 3_600_000
    this.timer = setInterval(() => void this.sweep().catch(() => {}), interval)
    this.timer.unref()
  }

  /** Removes rows past retention; returns how many. */
  async sweep(): Promise<number> {
    const retentionMs = this.options.retentionMs ?? 7 * 24 * 3_600_000
    const cutoff = new Date(Date.now() - retentionMs)
    const removed = await this.options.db
      .withSchema(this.options.schema)
      .table('inbox')
      .where('processed_at', '<', cutoff)
      .delete()
    if (removed) this.options.logger?.info({ removed }, 'inbox rows past retention removed')
    return removed
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
