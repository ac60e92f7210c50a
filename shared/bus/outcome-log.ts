import type { Knex } from 'knex'
import type { Logger } from '../log/logger.ts'
import type { Consumer, ConsumerEvents } from './consumer.ts'
import { inboxEvents, type DuplicateSkipped } from './inbox.ts'

export type RecordedOutcome = 'retried' | 'dead-lettered' | 'parked' | 'duplicate'

interface OutcomeRow {
  consumer: string
  message_id: string
  request_id: string | null
  routing_key: string
  outcome: RecordedOutcome
  attempt: number | null
  error: string | null
}

/**
 * Records in `message_outcomes` what the service's consumers did with a
 * delivery other than handle it: retried, dead-lettered, parked, skipped as a
 * duplicate (a handled one has its inbox row). These are the rare paths, so
 * each is one insert, outside the consumer's transaction (which has rolled
 * back, or never ran): a diagnostic record, lost if the process dies before
 * it is written, never a reason to hold a message. `bazaar trace` reads it. A consumer is named by its
 * purpose (`user-registrations`), which is what its inbox is called by convention.
 */
export class OutcomeLog {
  private readonly pending = new Set<Promise<void>>()
  private readonly unsubscribe: Array<() => void> = []

  constructor(private readonly options: { db: Knex; schema: string; logger?: Logger }) {}

  /** Listens to these consumers and to the inbox's duplicates in this schema. */
  watch(consumers: readonly Consumer[]): void {
    for (const consumer of consumers) {
      const retried = (info: ConsumerEvents['retried'][0]) =>
        this.record({ consumer: consumer.spec.purpose, message_id: String(info.messageId ?? ''), request_id: info.requestId ?? null, routing_key: info.routingKey, outcome: 'retried', attempt: info.attempt, error: null })
      const deadLettered = (letter: ConsumerEvents['dead-lettered'][0]) =>
        this.record({ consumer: consumer.spec.purpose, message_id: String(letter.messageId ?? ''), request_id: letter.requestId ?? null, routing_key: letter.routingKey, outcome: 'dead-lettered', attempt: letter.attempts, error: `${letter.kind}: ${letter.error}` })
      const parked = (info: ConsumerEvents['parked'][0]) =>
        this.record({ consumer: consumer.spec.purpose, message_id: info.messageId, request_id: null, routing_key: '', outcome: 'parked', attempt: info.attempts, error: info.error })
      consumer.on('retried', retried)
      consumer.on('dead-lettered', deadLettered)
      consumer.on('parked', parked)
      this.unsubscribe.push(() => {
        consumer.off('retried', retried)
        consumer.off('dead-lettered', deadLettered)
        consumer.off('parked', parked)
      })
    }
    const duplicate = (skipped: DuplicateSkipped) => {
      if (skipped.schema !== this.options.schema) return
      this.record({ consumer: skipped.consumer, message_id: skipped.messageId, request_id: skipped.requestId ?? null, routing_key: skipped.routingKey, outcome: 'duplicate', attempt: null, error: null })
    }
    inboxEvents.on('duplicate', duplicate)
    this.unsubscribe.push(() => inboxEvents.off('duplicate', duplicate))
  }

  /** Stops listening and waits for the records being written. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off()
    await Promise.allSettled([...this.pending])
  }

  private record(row: OutcomeRow): void {
    const write: Promise<void> = this.options.db
      .withSchema(this.options.schema)
      .table('message_outcomes')
      .insert({ ...row, error: row.error?.slice(0, 2_000) ?? null })
      .then(
        () => {},
        (err: Error) => this.options.logger?.warn({ err: err.message, outcome: row.outcome }, 'message outcome not recorded')
      )
      .finally(() => this.pending.delete(write))
    this.pending.add(write)
  }
}
