import type { Knex } from 'knex'
import { schemasWithTable, type ServiceSchema } from './tables.ts'

/**
 * What one request caused, read from what the bus records in every service
 * schema (shared/bus/trace-table.ts): the events it caused (`event_log`, and
 * the `outbox` for those not relayed yet), who handled each one (the
 * consumers' `inbox` rows) and what else happened to it (`message_outcomes`:
 * retried, dead-lettered, parked, skipped as a duplicate). Events form a tree
 * by their causation ids. `bazaar trace <request-id>` prints it.
 */

export type Outcome = 'handled' | 'retried' | 'dead-lettered' | 'parked' | 'duplicate'

export interface ConsumerOutcome {
  /** the service whose schema recorded it: the consuming service */
  service: string
  /** the inbox's consumer name (handled, duplicate) or the consumer's purpose (retried, dead-lettered, parked): by convention the same */
  consumer: string
  outcome: Outcome
  at: string
  attempt?: number
  error?: string
}

export interface TracedEvent {
  messageId: string
  routingKey: string
  /** the service that wrote it */
  service: string
  causationId?: string
  /** the W3C trace context it carries */
  traceparent?: string
  writtenAt: string
  /** undefined while the row waits in the outbox */
  relayedAt?: string
  outcomes: ConsumerOutcome[]
  /** the events written by consumers of this one, in the order they were written */
  caused: TracedEvent[]
}

export interface RequestTrace {
  requestId: string
  /** trace ids the events carry (one, unless the request was replayed under another) */
  traceIds: string[]
  /** every service that wrote or consumed one of the events, sorted */
  services: string[]
  startedAt: string
  finishedAt: string
  /** the events with no recorded cause among them: those the request itself wrote */
  events: TracedEvent[]
  eventCount: number
}

interface EventRow {
  message_id: string
  routing_key: string
  causation_id: string | null
  app_id: string | null
  trace_context: string | null
  created_at: Date
  relayed_at: Date | null
}

/**
 * The request's trace, or undefined when no schema records an event of it
 * (an unknown id, one older than the retention, or a request that caused no event).
 * `services`: the services whose schemas to read (any name; those without the tables are skipped).
 */
export async function readRequestTrace(db: Knex, namespace: string, services: string[], requestId: string): Promise<RequestTrace | undefined> {
  const schemas = await schemasWithTable(db, namespace, services, 'event_log')
  const events = new Map<string, TracedEvent>()
  for (const schema of schemas) for (const row of await eventsOf(db, schema, requestId)) events.set(row.messageId, row)
  if (events.size === 0) return undefined
  const ids = [...events.keys()]
  for (const schema of schemas) {
    for (const outcome of [...(await handledIn(db, schema, ids)), ...(await outcomesIn(db, schema, ids))]) {
      events.get(outcome.messageId)?.outcomes.push(outcome.outcome)
    }
  }
  return assemble(requestId, events)
}

/** Relayed events (event_log, by its request_id index) and those still in the outbox (a small table), batch rows' messages included. */
async function eventsOf(db: Knex, { service, schema }: ServiceSchema, requestId: string): Promise<TracedEvent[]> {
  const { rows } = await db.raw<{ rows: EventRow[] }>(
    `select message_id, routing_key, causation_id, app_id, trace_context, created_at, relayed_at from ??.event_log where request_id = ?
     union all
     select message_id, routing_key, properties->'headers'->>'x-causation-id', properties->>'appId', trace_context, created_at, null
       from ??.outbox where messages is null and properties->'headers'->>'x-request-id' = ?
     union all
     select m->>0, m->>1, m->3->'headers'->>'x-causation-id', m->3->>'appId', m->>4, o.created_at, null
       from ??.outbox o cross join lateral json_array_elements(o.messages) m where o.messages is not null and m->3->'headers'->>'x-request-id' = ?`,
    [schema, requestId, schema, requestId, schema, requestId]
  )
  return rows.map((row) => ({
    messageId: row.message_id,
    routingKey: row.routing_key,
    service: row.app_id ?? service,
    causationId: row.causation_id ?? undefined,
    traceparent: row.trace_context ?? undefined,
    writtenAt: iso(row.created_at),
    relayedAt: row.relayed_at ? iso(row.relayed_at) : undefined,
    outcomes: [],
    caused: []
  }))
}

/**
 * The inbox rows of these messages. The inbox's key is (consumer, message_id) and it has no index on the
 * message id alone (adding one would cost every delivery), so the consumer names are read first by a
 * skip scan of that key (one index probe per consumer), then the rows by the key itself.
 */
async function handledIn(db: Knex, { service, schema }: ServiceSchema, ids: string[]): Promise<Array<{ messageId: string; outcome: ConsumerOutcome }>> {
  const { rows: consumers } = await db.raw<{ rows: Array<{ consumer: string }> }>(
    `with recursive c(consumer) as (
       select min(consumer) from ??.inbox
       union all
       select (select min(consumer) from ??.inbox where consumer > c.consumer) from c where c.consumer is not null
     ) select consumer from c where consumer is not null`,
    [schema, schema]
  )
  if (consumers.length === 0) return []
  const { rows } = await db.raw<{ rows: Array<{ consumer: string; message_id: string; processed_at: Date }> }>(
    'select consumer, message_id, processed_at from ??.inbox where consumer = any(?) and message_id = any(?)',
    [schema, consumers.map((c) => c.consumer), ids]
  )
  return rows.map((row) => ({ messageId: row.message_id, outcome: { service, consumer: row.consumer, outcome: 'handled', at: iso(row.processed_at) } }))
}

async function outcomesIn(db: Knex, { service, schema }: ServiceSchema, ids: string[]): Promise<Array<{ messageId: string; outcome: ConsumerOutcome }>> {
  const rows = await db
    .withSchema(schema)
    .from('message_outcomes')
    .whereIn('message_id', ids)
    .orderBy('id')
    .select<Array<{ consumer: string; message_id: string; outcome: Outcome; attempt: number | null; error: string | null; at: Date }>>('consumer', 'message_id', 'outcome', 'attempt', 'error', 'at')
  return rows.map((row) => ({
    messageId: row.message_id,
    outcome: {
      service,
      consumer: row.consumer,
      outcome: row.outcome,
      at: iso(row.at),
      ...(row.attempt !== null ? { attempt: row.attempt } : {}),
      ...(row.error !== null ? { error: row.error } : {})
    }
  }))
}

/** The tree by causation ids, each level in the order written, outcomes in time order. */
function assemble(requestId: string, events: Map<string, TracedEvent>): RequestTrace {
  const byTime = (a: { writtenAt: string }, b: { writtenAt: string }) => a.writtenAt.localeCompare(b.writtenAt)
  const roots: TracedEvent[] = []
  const times: string[] = []
  const services = new Set<string>()
  const traceIds = new Set<string>()
  for (const event of events.values()) {
    const cause = event.causationId ? events.get(event.causationId) : undefined
    if (cause) cause.caused.push(event)
    else roots.push(event)
    event.outcomes.sort((a, b) => a.at.localeCompare(b.at))
    services.add(event.service)
    if (event.traceparent) traceIds.add(event.traceparent.slice(3, 35))
    times.push(event.writtenAt, ...(event.relayedAt ? [event.relayedAt] : []))
    for (const outcome of event.outcomes) {
      services.add(outcome.service)
      times.push(outcome.at)
    }
  }
  for (const event of events.values()) event.caused.sort(byTime)
  roots.sort(byTime)
  times.sort()
  return {
    requestId,
    traceIds: [...traceIds],
    services: [...services].sort(),
    startedAt: times[0]!,
    finishedAt: times[times.length - 1]!,
    events: roots,
    eventCount: events.size
  }
}

const iso = (value: Date | string) => new Date(value).toISOString()
