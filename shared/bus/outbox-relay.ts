import { EventEmitter } from 'node:events'
import type { Options } from 'amqplib'
import type { Knex } from 'knex'
import { PgListener } from '../db/listener.ts'
import type { Logger } from '../log/logger.ts'
import { createBusLane, type BusLane } from './lane.ts'
import { names } from './names.ts'
import { randomUUID } from 'node:crypto'
import { outboxChannel, type BatchedMessage } from './outbox.ts'
import { onOutboxCommitted } from './outbox-signal.ts'
import type { Publisher } from './publisher.ts'
import { ident, statementName, withLaneConnection } from './sql.ts'
import type { Span } from '@opentelemetry/api'
import { endSpan, startRelaySpan } from '../tracing/spans.ts'
import { activeTracer } from '../tracing/provider.ts'

export interface OutboxRelayOptions {
  /** the service's pool, for `backlog()` */
  db: Knex
  databaseUrl: string
  /**
   * the bus's PostgreSQL lane to claim and NOTIFY on; without one the relay
   * opens its own from `databaseUrl` (up to `batchesInFlight` connections, opened as batches need
   * them; a NOTIFY waits for a free one) and closes it on stop
   */
  lane?: BusLane
  schema: string
  namespace: string
  /** the service whose outbox it relays, for its spans (default: the schema) */
  service?: string
  publisher: Publisher
  logger?: Logger
  /** rows per claim (default 500) */
  batchSize?: number
  /**
   * messages per claim at most (default 10,000): a batch row (writeOutboxMany) counts its messages, so a
   * backlog of batch rows is not claimed, held in memory and confirmed in one transaction; the first row is
   * always taken, however large. As many as 16 chunks of 500 products fit in one claim.
   */
  claimMessages?: number
  /** fallback wake-up when a NOTIFY is missed (listener reconnecting) */
  pollIntervalMs?: number
  /** wait after a failed batch (broker down) before trying again */
  retryDelayMs?: number
  /**
   * shortest time between two NOTIFYs to relays in other processes: commits
   * within it share one (default 20 ms; a NOTIFY is a transaction of its own)
   */
  notifyIntervalMs?: number
  /**
   * batches in flight at once: the next batch is claimed and sent while the
   * previous one waits for its confirms (a quorum queue's fsync), so a row
   * committed meanwhile does not wait for that round trip. Claims (and so
   * publishes) still happen one after another, in id order. Default 4: at a
   * few hundred commits a second each batch is a row or two, and with 2 a
   * commit often waited for a confirm (p99 13-26 ms from commit to publish in
   * the SSE benchmark, 8 ms with 4). Each holds a pooled connection until its
   * confirms arrive.
   */
  batchesInFlight?: number
}

interface OutboxRow {
  id: string
  routing_key: string
  payload: unknown
  properties: Record<string, unknown>
  trace_context: string | null
  /** a batch row's messages (writeOutboxMany); null for a row that is one message */
  messages: BatchedMessage[] | null
}

/** bigint ids as node-postgres returns them (strings), in numeric order */
const byId = (a: OutboxRow, b: OutboxRow) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The messages a claimed row stands for: itself, or a batch row's. */
function messagesOf(row: OutboxRow): Array<{ routingKey: string; payload: unknown; properties: Options.Publish; traceContext: string | null }> {
  if (!row.messages) return [{ routingKey: row.routing_key, payload: row.payload, properties: row.properties, traceContext: row.trace_context }]
  return row.messages.map(([, routingKey, payload, properties, traceContext]) => ({ routingKey, payload, properties, traceContext }))
}

/**
 * Publishes a schema's outbox rows, in id order, with publisher confirms.
 * A batch is claimed and deleted by one statement (DELETE of the oldest rows
 * not locked by another relay, RETURNING them) in a transaction that commits
 * only after every row's confirm: until then the rows are there for everyone
 * else, and a failed publish or a crash rolls the delete back.
 * Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays on one
 * schema never publish a row twice while both are healthy (a relay that dies
 * after publishing and before committing leaves its rows to be published again:
 * at least once, made exactly-once by the consumers' inbox).
 * Wakes when a writer in this process commits (outbox-signal.ts) and passes a
 * coalesced NOTIFY to relays of the same schema in other processes (LISTEN);
 * polls as a fallback, and waits out broker outages.
 */
export class OutboxRelay extends EventEmitter {
  private readonly listener: PgListener
  /** the bus's lane: the one given, or one of the relay's own between start and stop */
  private lane?: BusLane
  private pollTimer?: NodeJS.Timeout
  private again = false
  private stopped = true
  /** a batch is between its claim and the sending of its publishes: the next claim waits for it */
  private claiming = false
  private readonly batches = new Set<Promise<void>>()
  private retryTimer?: NodeJS.Timeout
  private readonly batchesInFlight: number
  private readonly batchSize: number
  private readonly claimMessages: number
  private readonly pollIntervalMs: number
  private readonly retryDelayMs: number
  private failing = false
  private unregister?: () => void
  /** tells our own NOTIFYs apart from other processes' */
  private readonly instanceId = randomUUID()
  private notifying = false
  private notifyAgain = false
  private lastNotifyAt = 0
  private readonly notifyIntervalMs: number
  private readonly claimSql: string
  /** prepared once per connection: planning it cost more than running it, once per batch */
  private readonly claimName: string

  constructor(private readonly options: OutboxRelayOptions) {
    super()
    this.batchSize = options.batchSize ?? 500
    this.claimMessages = Math.max(1, options.claimMessages ?? 10_000)
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.retryDelayMs = options.retryDelayMs ?? 500
    this.notifyIntervalMs = options.notifyIntervalMs ?? 20
    this.batchesInFlight = Math.max(1, options.batchesInFlight ?? 4)
    const outbox = `${ident(options.schema)}.outbox`
    this.claimName = statementName('bazaar_outbox_claim', options.schema)
    // The claim also records, in the same statement and transaction, the events a request caused (event_log,
    // read by `bazaar trace`): one insert per message with a request id, kept only if the batch commits. A batch
    // row (writeOutboxMany) stands for the messages in its `messages` document, logged one by one like the others.
    this.claimSql =
      // The rows are locked in id order up to $1 of them; of those, the longest run from the first that carries
      // at most $2 messages is deleted (the rest stay locked until the commit: nobody else claims them meanwhile).
      `with locked as (select id, case when messages is null then 1 else (payload->>'messages')::int end as n from ${outbox} order by id limit $1 for update skip locked), ` +
      'counted as (select id, sum(n) over (order by id) - n as before from locked), ' +
      `claimed as (delete from ${outbox} where id in (select id from counted where before < $2) ` +
      'returning id, message_id, routing_key, payload, properties, trace_context, created_at, messages), ' +
      'each_message as (' +
      "select message_id, routing_key, properties->'headers'->>'x-request-id' as request_id, properties->'headers'->>'x-causation-id' as causation_id, " +
      "properties->'headers'->>'x-correlation-id' as correlation_id, properties->>'appId' as app_id, trace_context, created_at from claimed where messages is null " +
      'union all ' +
      "select m->>0, m->>1, m->3->'headers'->>'x-request-id', m->3->'headers'->>'x-causation-id', " +
      "m->3->'headers'->>'x-correlation-id', m->3->>'appId', m->>4, c.created_at from claimed c cross join lateral json_array_elements(c.messages) m where c.messages is not null), " +
      `logged as (insert into ${ident(options.schema)}.event_log ` +
      '(message_id, routing_key, request_id, causation_id, correlation_id, app_id, trace_context, created_at) ' +
      'select message_id, routing_key, request_id, causation_id, correlation_id, app_id, trace_context, created_at from each_message ' +
      'where request_id is not null on conflict do nothing) ' +
      'select id, routing_key, payload, properties, trace_context, messages from claimed'
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: outboxChannel(options.schema),
      retryDelayMs: this.retryDelayMs,
      onNotification: (payload) => {
        if (payload !== this.instanceId) this.kick()
      },
      // rows committed while we were not listening
      onListening: () => this.kick(),
      logger: options.logger
    })
  }

  async start(): Promise<void> {
    this.stopped = false
    this.lane = this.options.lane ?? createBusLane({ databaseUrl: this.options.databaseUrl, max: this.batchesInFlight })
    this.unregister = onOutboxCommitted(this.options.schema, () => {
      this.kick()
      this.notifyPeers()
    })
    await this.listener.start()
    this.pollTimer = setInterval(() => this.kick(), this.pollIntervalMs)
    this.pollTimer.unref()
    this.kick()
  }

  /**
   * Asks for a pass over the outbox. Claims never overlap; a new one starts as
   * soon as the previous batch has sent its publishes (up to `batchesInFlight`
   * batches awaiting confirms); requests meanwhile coalesce into one more.
   */
  kick(): void {
    if (this.stopped || this.retryTimer) return
    if (this.claiming || this.batches.size >= this.batchesInFlight) {
      this.again = true
      return
    }
    this.again = false
    this.claiming = true
    let sent = false
    const onSent = (claimed: { rows: number; messages: number }) => {
      if (sent) return
      sent = true
      this.claiming = false
      // A full batch means more rows are waiting: claim them now, while this one awaits its confirms.
      if (claimed.rows >= this.batchSize || claimed.messages >= this.claimMessages || this.again) this.kick()
    }
    const batch: Promise<void> = this.relayBatch(onSent)
      .then(() => {
        if (this.failing) this.options.logger?.info('outbox relay recovered')
        this.failing = false
      })
      .catch((err: unknown) => {
        if (!this.failing) this.options.logger?.warn({ err: (err as Error).message }, 'outbox relay failed; rows kept, retrying')
        this.failing = true
        this.emit('error-batch', err)
        // Broker or database away: wait before the next pass rather than spin.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined
          this.kick()
        }, this.retryDelayMs)
        this.retryTimer.unref()
      })
      .finally(() => {
        onSent({ rows: 0, messages: 0 })
        this.batches.delete(batch)
        if (this.again) this.kick()
      })
    this.batches.add(batch)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.unregister?.()
    clearInterval(this.pollTimer)
    clearTimeout(this.retryTimer)
    await Promise.allSettled([...this.batches])
    await this.listener.stop()
    const lane = this.lane
    this.lane = undefined
    if (lane && lane !== this.options.lane) await lane.end().catch(() => {})
  }

  /**
   * Wakes relays of this schema in other processes (replicas). At most one
   * NOTIFY is in flight, in its own tiny transaction, and at most one per
   * `notifyIntervalMs`: commits made meanwhile share the next one.
   */
  private notifyPeers(): void {
    if (this.notifying) {
      this.notifyAgain = true
      return
    }
    this.notifying = true
    const wait = this.lastNotifyAt + this.notifyIntervalMs - Date.now()
    const send = () => {
      this.lastNotifyAt = Date.now()
      if (!this.lane) {
        this.notifying = false
        return
      }
      void this.lane
        .query('select pg_notify($1, $2)', [outboxChannel(this.options.schema), this.instanceId])
        .catch(() => {}) // peers still poll
        .finally(() => {
          this.notifying = false
          if (this.notifyAgain && !this.stopped) {
            this.notifyAgain = false
            this.notifyPeers()
          }
        })
    }
    if (wait <= 0) return send()
    setTimeout(send, wait).unref()
  }

  /** Rows waiting to be published (for `bazaar status`). */
  async backlog(): Promise<number> {
    const [{ count }] = await this.options.db.withSchema(this.options.schema).table('outbox').count({ count: '*' })
    return Number(count)
  }

  /** One batch: claim rows, publish them in id order, commit the claim after every confirm. */
  private async relayBatch(onSent: (claimed: { rows: number; messages: number }) => void): Promise<number> {
    const { publisher, namespace } = this.options
    const exchange = names.eventsExchange(namespace)
    if (!this.lane) return 0 // stopped
    return withLaneConnection(this.lane, async (sql) => {
      let send: Span | undefined
      try {
        // BEGIN, the setting and the claim are sent without waiting: one round trip.
        sql.query('BEGIN').catch(() => {})
        // The claim walks the primary key from the oldest row. Left to itself the planner reads the whole
        // heap instead (the table looks tiny: a few live rows), dead rows and all, and that read grows with
        // every row deleted until autovacuum comes round.
        sql.query('SET LOCAL enable_seqscan = off').catch(() => {})
        const { rows } = await sql.query<OutboxRow>(this.claimSql, [this.batchSize, this.claimMessages], this.claimName)
        rows.sort(byId)
        const messages = rows.flatMap(messagesOf)
        // tracing on: one send span for the batch, linked to each message's stored context
        if (messages.length > 0 && activeTracer()) send = startRelaySpan(exchange, messages.map((m) => m.traceContext), this.options.service ?? this.options.schema)
        // Sent in id order (a batch row's messages in their order) on one channel; confirms awaited together.
        const confirms = messages.map((m) =>
          publisher.publishRaw({
            exchange,
            routingKey: m.routingKey,
            body: Buffer.from(JSON.stringify(m.payload)),
            properties: m.properties
          })
        )
        onSent({ rows: rows.length, messages: messages.length })
        await Promise.all(confirms)
        const commit = await sql.query('COMMIT')
        if (commit.command !== 'COMMIT') throw new Error(`outbox batch rolled back (COMMIT answered ${commit.command})`)
        endSpan(send)
        if (messages.length > 0) this.emit('published', messages.length)
        return rows.length
      } catch (err) {
        endSpan(send, err)
        await sql.query('ROLLBACK').catch(() => {})
        throw err
      }
    })
  }
}
