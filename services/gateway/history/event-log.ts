import type { Knex } from 'knex'
import type { EventPayload } from '../../../shared/contracts/index.ts'
import { addressOf, audiencesOf, type Principal, type PushedKey, type RecordedEvent } from './audiences.ts'
import { allPages, eventColumns, pageSize, toEvent } from './rows.ts'

export interface EventToRecord {
  messageId: string
  routingKey: PushedKey
  payload: EventPayload<PushedKey>
}

/** Something kept up to date from the events as they are recorded (the maintenance notices). */
export interface Projection {
  /** the events this instance sees for the first time; they count as seen only once this resolves */
  apply(events: RecordedEvent[]): Promise<void>
}

/**
 * The event log every gateway instance shares, in PostgreSQL (the gateway's
 * own schema), rather than in a RabbitMQ stream, because:
 * - ids must be the same on every instance, so a client can resume on any of
 *   them: the table assigns them, idempotently by message id;
 * - replay is a range query (`id > Last-Event-ID`) filtered by the client's
 *   audiences, with an index, not a scan of a log from an offset.
 *
 * Ids are `max(id) + n`, computed and inserted by `record_events` (migration
 * 003, rewritten in 004) while it holds a transaction-scoped advisory lock that every recorder
 * queues on, released only once the rows are committed and visible: so an id
 * only becomes visible after every lower id has committed. That is what makes
 * "everything after id N" a complete answer at any moment. The price is that
 * inserting is serial across instances, one commit per batch; reading an
 * event another recorder was first to record takes no lock.
 */
export class EventLog {
  /**
   * Ids of the events this instance recorded or read lately, by message id: an
   * event seen again (its durable and its live path) needs no round trip. An
   * id never changes once given.
   */
  private readonly known = new Map<string, number>()

  constructor(
    private readonly db: Knex,
    private readonly schema: string,
    private readonly options: { projections?: Projection[]; knownLimit?: number } = {}
  ) {}

  private get events(): string {
    return `${this.schema}.events`
  }

  /** Records an event once per message id and returns it with its id (the same on every instance). */
  async record<K extends PushedKey>(messageId: string, routingKey: K, payload: EventPayload<K>): Promise<RecordedEvent> {
    return (await this.recordMany([{ messageId, routingKey, payload }]))[0]!
  }

  /**
   * Records several events in one statement and one round trip (one commit:
   * at hundreds of events a second the commit's fsync and the round trips,
   * not the insert, are what cost), in the given order, each once per message
   * id. Events already recorded are only read: no lock, no write, no commit
   * to wait for; events this instance has seen already need no round trip at
   * all. Returns them with their ids, in the given order.
   */
  async recordMany(items: EventToRecord[]): Promise<RecordedEvent[]> {
    const rows = items.map((item, ord) => {
      const { audiences, sellerId, orderId } = addressOf(item.routingKey, item.payload)
      return { ord, message_id: item.messageId, routing_key: item.routingKey, payload: item.payload, audiences, seller_id: sellerId ?? null, order_id: orderId ?? null }
    })
    const ids = new Map<string, number>()
    const unknown = rows.filter((row) => {
      const id = this.known.get(row.message_id)
      if (id !== undefined) ids.set(row.message_id, id)
      return id === undefined
    })
    if (unknown.length > 0) {
      // One round trip: reads what is recorded already, inserts the rest under the recorders' lock (migration 004).
      const { rows: found } = await this.db.raw<{ rows: Array<{ id: string; message_id: string }> }>('select id, message_id from ??(?::jsonb)', [
        `${this.schema}.record_events`,
        JSON.stringify(unknown)
      ])
      for (const row of found) ids.set(row.message_id, Number(row.id))
    }
    const firstSeen: RecordedEvent[] = []
    const recorded = rows.map((row) => {
      const id = ids.get(row.message_id)
      if (id === undefined) throw new Error(`event ${row.message_id} was neither recorded nor found`)
      const event: RecordedEvent = { id, routingKey: row.routing_key, payload: row.payload, audiences: row.audiences }
      if (!this.known.has(row.message_id)) firstSeen.push(event)
      return event
    })
    for (const projection of this.options.projections ?? []) await projection.apply(firstSeen)
    // Only now that the projections have it too: a call that failed half-way is repeated in full.
    for (const row of unknown) this.remember(row.message_id, ids.get(row.message_id)!)
    return recorded
  }

  private remember(messageId: string, id: number): void {
    this.known.set(messageId, id)
    // a Map iterates in insertion order: the first key is the oldest
    if (this.known.size > (this.options.knownLimit ?? 20_000)) this.known.delete(this.known.keys().next().value!)
  }

  /** The highest id recorded so far (0 when empty). */
  async maxId(): Promise<number> {
    const row = await this.db(this.events).max({ max: 'id' }).first()
    return Number(row?.max ?? 0)
  }

  /** Events recorded after `afterId`, in id order (a page of them). */
  async after(afterId: number, limit = pageSize): Promise<RecordedEvent[]> {
    const rows = await this.db(`${this.events} as e`).where('e.id', '>', afterId).orderBy('e.id').limit(limit).select(...eventColumns)
    return rows.map(toEvent)
  }

  /**
   * Replay for a stream that resumes after `since` (its Last-Event-ID): every
   * event of its audiences after it and newer than `cutoff`, in id order. An
   * appliance replays only what is for everyone: its orders come from the
   * receipts, acknowledged or not, whatever `since` says.
   */
  async replay(principal: Principal, since: number, cutoff: Date): Promise<RecordedEvent[]> {
    const audiences = principal.kind === 'user' ? audiencesOf(principal) : [audiencesOf(principal)[0]!]
    return allPages(() =>
      this.db(`${this.events} as e`).where('e.id', '>', since).where('e.created_at', '>', cutoff).whereRaw('e.audiences && ?::text[]', [audiences])
    )
  }
}
