import type { Knex } from 'knex'
import type { EventPayload } from '../../../shared/contracts/index.ts'
import type { Principal, PushedKey, RecordedEvent } from './audiences.ts'
import { EventLog, type EventToRecord } from './event-log.ts'
import { NoticeProjection } from './notices.ts'
import { ReceiptStore } from './receipts.ts'
import { sweepHistory } from './retention.ts'

/**
 * The gateway's history as its callers use it: the event log, the notice
 * projection it keeps current, the receipts and retention, put together.
 * Each part does one job in its own file; this only joins them up.
 */
export class EventStore {
  readonly log: EventLog
  readonly notices: NoticeProjection
  readonly receipts: ReceiptStore

  constructor(
    private readonly db: Knex,
    private readonly schema: string,
    private readonly retentionMs: number
  ) {
    this.notices = new NoticeProjection(db, schema)
    this.log = new EventLog(db, schema, { projections: [this.notices] })
    this.receipts = new ReceiptStore(db, schema)
  }

  record<K extends PushedKey>(messageId: string, routingKey: K, payload: EventPayload<K>): Promise<RecordedEvent> {
    return this.log.record(messageId, routingKey, payload)
  }

  recordMany(items: EventToRecord[]): Promise<RecordedEvent[]> {
    return this.log.recordMany(items)
  }

  maxId(): Promise<number> {
    return this.log.maxId()
  }

  after(afterId: number): Promise<RecordedEvent[]> {
    return this.log.after(afterId)
  }

  activeNotices(): Promise<RecordedEvent[]> {
    return this.notices.active()
  }

  /**
   * What a stream gets on connect, in id order: every event of its audiences
   * after `since` (its Last-Event-ID, if any) within retention; for an
   * appliance, every order of its seller it has not acknowledged, whatever
   * `since` says; and the active maintenance notices.
   */
  async catchUp(principal: Principal, since: number | undefined, appliance?: { createdAt: Date }): Promise<RecordedEvent[]> {
    const cutoff = new Date(Date.now() - this.retentionMs)
    const found = new Map<number, RecordedEvent>()
    const add = (events: RecordedEvent[]) => events.forEach((event) => found.set(event.id, event))
    add(await this.notices.active())
    if (since !== undefined) add(await this.log.replay(principal, since, cutoff))
    if (principal.kind === 'appliance') {
      const from = appliance && appliance.createdAt > cutoff ? appliance.createdAt : cutoff
      add(await this.receipts.unacknowledged(principal, from))
    }
    return [...found.values()].sort((a, b) => a.id - b.id)
  }

  acknowledge(appliance: { id: string; sellerId: string }, orderId: string): Promise<{ ackedAt: Date } | undefined> {
    return this.receipts.acknowledge(appliance, orderId)
  }

  sweep(): Promise<number> {
    return sweepHistory(this.db, this.schema, this.retentionMs)
  }
}
