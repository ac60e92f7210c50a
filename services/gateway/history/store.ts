import type { Knex } from 'knex'
import { ident, statementName, withConnection } from '../../../shared/bus/sql.ts'
import { MAINTENANCE_CANCELLED, MAINTENANCE_SCHEDULED, ORDER_CREATED, type EventPayload } from '../../../shared/contracts/index.ts'
import { addressOf, audiencesOf, everyone, type Principal, type PushedKey, type RecordedEvent } from './audiences.ts'

/**
 * The event history every gateway instance shares, in PostgreSQL (the
 * gateway's own schema), rather than in a RabbitMQ stream, because:
 * - ids must be the same on every instance, so a client can resume on any of
 *   them: the table assigns them, idempotently by message id;
 * - replay is a range query (`id > Last-Event-ID`) filtered by the client's
 *   audiences, with an index, not a scan of a log from an offset;
 * - "orders this appliance has not acknowledged" is a join against the
 *   receipts table, which a log cannot answer.
 *
 * Ids are `max(id) + n`, computed and inserted by `record_events` (migration
 * 003, rewritten in 004) while it holds a transaction-scoped advisory lock that every recorder
 * queues on, released only once the rows are committed and visible: so an id
 * only becomes visible after every lower id has committed. That is what makes
 * "everything after id N" a complete answer at any moment. The price is that
 * inserting is serial across instances, one commit per batch; reading an
 * event another recorder was first to record takes no lock.
 */
export class EventStore {
  /**
   * Ids of the events this instance recorded or read lately, by message id: an
   * event comes twice to each instance (its live queue and, when this instance
   * is the one the durable queue hands it to, the history consumer), and the
   * second time needs no round trip. An id never changes once given.
   */
  private readonly known = new Map<string, number>()
  private readonly acknowledgeStatement: { name: string; text: string }

  constructor(
    private readonly db: Knex,
    private readonly schema: string,
    private readonly retentionMs: number,
    private readonly knownLimit = 20_000
  ) {
    this.acknowledgeStatement = acknowledgeStatement(schema)
  }

  private table(name: string): string {
    return `${this.schema}.${name}`
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
  async recordMany(items: Array<{ messageId: string; routingKey: PushedKey; payload: EventPayload<PushedKey> }>): Promise<RecordedEvent[]> {
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
    for (let attempt = 0; unknown.length > 0; attempt++) {
      try {
        // One round trip: reads what is recorded already, inserts the rest under the recorders' lock (migration 004).
        const { rows: found } = await this.db.raw<{ rows: Array<{ id: string; message_id: string }> }>('select id, message_id from ??(?::jsonb)', [
          this.table('record_events'),
          JSON.stringify(unknown)
        ])
        for (const row of found) ids.set(row.message_id, Number(row.id))
        break
      } catch (err) {
        // only an instance of an older version, inserting without the lock, can still collide on an id: take the next ones
        if ((err as { code?: string }).code !== '23505' || attempt >= 50) throw err
      }
    }
    const recorded: RecordedEvent[] = []
    for (const row of rows) {
      const id = ids.get(row.message_id)
      if (id === undefined) throw new Error(`event ${row.message_id} was neither recorded nor found`)
      const firstSeen = !this.known.has(row.message_id)
      if (firstSeen && (row.routing_key === MAINTENANCE_SCHEDULED || row.routing_key === MAINTENANCE_CANCELLED)) {
        await this.rememberNotice(id, row.routing_key, row.payload as EventPayload<typeof MAINTENANCE_SCHEDULED | typeof MAINTENANCE_CANCELLED>)
      }
      recorded.push({ id, routingKey: row.routing_key, payload: row.payload, audiences: row.audiences })
    }
    // Only now that all of it (the notices too) is done: a call that failed half-way is repeated in full.
    for (const row of unknown) this.remember(row.message_id, ids.get(row.message_id)!)
    return recorded
  }

  private remember(messageId: string, id: number): void {
    this.known.set(messageId, id)
    // a Map iterates in insertion order: the first key is the oldest
    if (this.known.size > this.knownLimit) this.known.delete(this.known.keys().next().value!)
  }

  /** Keeps the maintenance notices current, whoever announced them (REST or the CLI on the bus). */
  private async rememberNotice(eventId: number, routingKey: PushedKey, payload: EventPayload<typeof MAINTENANCE_SCHEDULED | typeof MAINTENANCE_CANCELLED>) {
    const table = this.db(this.table('maintenance_notices'))
    if (routingKey === MAINTENANCE_SCHEDULED) {
      const notice = payload as EventPayload<typeof MAINTENANCE_SCHEDULED>
      await table
        .insert({ id: notice.id, message: notice.message, starts_at: notice.startsAt, ends_at: notice.endsAt, event_id: eventId })
        .onConflict('id')
        .merge(['message', 'starts_at', 'ends_at', 'event_id', 'updated_at'])
    } else {
      const cancel = payload as EventPayload<typeof MAINTENANCE_CANCELLED>
      await table.insert({ id: cancel.id, cancelled_at: cancel.cancelledAt }).onConflict('id').merge(['cancelled_at', 'updated_at'])
    }
  }

  /** The highest id recorded so far (0 when empty). */
  async maxId(): Promise<number> {
    const row = await this.db(this.table('events')).max({ max: 'id' }).first()
    return Number(row?.max ?? 0)
  }

  /** Events recorded after `afterId`, in id order (a page of them). */
  async after(afterId: number, limit = 1_000): Promise<RecordedEvent[]> {
    const rows = await this.db(this.table('events')).where('id', '>', afterId).orderBy('id').limit(limit).select('id', 'routing_key', 'payload', 'audiences')
    return rows.map(toEvent)
  }

  /** Maintenance notices not cancelled and not over, as the events that announced them. */
  async activeNotices(): Promise<RecordedEvent[]> {
    const rows = await this.db(`${this.table('maintenance_notices')} as n`)
      .join(`${this.table('events')} as e`, 'e.id', 'n.event_id')
      .whereNull('n.cancelled_at')
      .whereNotNull('n.message')
      .where('n.ends_at', '>', new Date())
      .orderBy('e.id')
      .select('e.id', 'e.routing_key', 'e.payload', 'e.audiences')
    return rows.map(toEvent)
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
    for (const event of await this.activeNotices()) found.set(event.id, event)
    const audiences = audiencesOf(principal)
    let cursor = 0
    for (;;) {
      const query = this.db(`${this.table('events')} as e`)
        .where('e.id', '>', cursor)
        .where('e.created_at', '>', cutoff)
        .orderBy('e.id')
        .limit(1_000)
        .select('e.id', 'e.routing_key', 'e.payload', 'e.audiences')
      if (principal.kind === 'user') {
        if (since === undefined) break
        query.where('e.id', '>', since).whereRaw('e.audiences && ?::text[]', [audiences])
      } else {
        query.where((q) => {
          if (since !== undefined) q.orWhere((b) => b.where('e.id', '>', since).whereRaw('e.audiences && ?::text[]', [[everyone]]))
          q.orWhere((b) =>
            b
              .where('e.routing_key', ORDER_CREATED)
              .where('e.seller_id', principal.sellerId)
              .where('e.created_at', '>=', appliance?.createdAt ?? cutoff)
              .whereNotExists((r) =>
                r.from(this.table('receipts')).where('appliance_id', principal.applianceId).whereRaw('order_id = e.order_id')
              )
          )
        })
      }
      const page = (await query).map(toEvent)
      for (const event of page) found.set(event.id, event)
      if (page.length < 1_000) break
      cursor = page[page.length - 1]!.id
    }
    return [...found.values()].sort((a, b) => a.id - b.id)
  }

  /** Records an appliance's receipt of an order; false if that order was never for its seller. */
  async acknowledge(appliance: { id: string; sellerId: string }, orderId: string): Promise<{ ackedAt: Date } | undefined> {
    // One round trip (an appliance acknowledges every order it prints): the order must be its seller's;
    // the first acknowledgement is kept, and a repeated one answers it. A statement prepared once per
    // connection: at hundreds of receipts a second, planning it cost more than running it.
    const { rows } = await withConnection(this.db, (client) =>
      client.query<{ found: boolean; acked_at: Date | null }>({ ...this.acknowledgeStatement, values: [appliance.sellerId, orderId, appliance.id] })
    )
    const row = rows[0]
    if (!row?.found || !row.acked_at) return undefined
    return { ackedAt: new Date(row.acked_at) }
  }

  /** Forgets what is past retention (but never the announcement of a notice still active). */
  async sweep(): Promise<number> {
    const cutoff = new Date(Date.now() - this.retentionMs)
    const removed = await this.db(this.table('events'))
      .where('created_at', '<', cutoff)
      .whereNotIn('id', (q) =>
        q.from(this.table('maintenance_notices')).whereNull('cancelled_at').where('ends_at', '>', new Date()).whereNotNull('event_id').select('event_id')
      )
      .delete()
    await this.db(this.table('receipts')).where('acked_at', '<', cutoff).delete()
    await this.db(this.table('maintenance_notices')).where('updated_at', '<', cutoff).where((q) => q.whereNotNull('cancelled_at').orWhere('ends_at', '<', cutoff)).delete()
    return removed
  }
}

/**
 * An appliance's acknowledgement, prepared once per connection. The routing key is written out, not a
 * parameter: the plan PostgreSQL keeps for a prepared statement can then use the partial index on
 * (seller_id, order_id) of order.created events.
 */
function acknowledgeStatement(schema: string): { name: string; text: string } {
  const events = `${ident(schema)}.events`
  const receipts = `${ident(schema)}.receipts`
  return {
    name: statementName('bazaar_gateway_ack', schema),
    text: `with o as (select 1 from ${events} where routing_key = '${ORDER_CREATED}' and seller_id = $1 and order_id = $2 limit 1),
           ins as (insert into ${receipts} (appliance_id, order_id) select $3::uuid, $2 from o on conflict (appliance_id, order_id) do nothing returning acked_at)
      select exists (select 1 from o) as found,
             coalesce((select acked_at from ins), (select acked_at from ${receipts} where appliance_id = $3::uuid and order_id = $2)) as acked_at`
  }
}

function toEvent(row: { id: string | number; routing_key: string; payload: unknown; audiences: string[] }): RecordedEvent {
  return { id: Number(row.id), routingKey: row.routing_key as PushedKey, payload: row.payload as RecordedEvent['payload'], audiences: row.audiences }
}
