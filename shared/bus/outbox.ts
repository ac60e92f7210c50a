import { randomUUID } from 'node:crypto'
import type { Options } from 'amqplib'
import type { Knex } from 'knex'
import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import { BusError } from './errors.ts'
import { eventProperties, type MessageMeta } from './message.ts'
import { signalOnCommit } from './outbox-signal.ts'
import { connectionOf, ident, isSqlTransaction, statementName, type SqlTransaction } from './sql.ts'
import { names } from './names.ts'
import { ATTR_MESSAGING_MESSAGE_ID } from '@opentelemetry/semantic-conventions/incubating'
import { endSpan, startProducerSpan } from '../tracing/spans.ts'
import { TRACEPARENT } from '../tracing/traceparent.ts'

export interface OutboxIdentity {
  namespace: string
  appId: string
  /** the schema whose outbox table receives the row */
  schema: string
}

/** The NOTIFY channel a schema's relay listens on. */
export const outboxChannel = (schema: string) => `${schema}_outbox`

/** A knex transaction, or the lighter `sqlTransaction()` of the bus's hot paths. */
export type OutboxTransaction = Knex.Transaction | SqlTransaction

interface InsertStatement {
  name: string
  text: string
}

const statements = new Map<string, InsertStatement>()

/** The outbox insert of a schema, prepared once per connection under a short name of its own. */
function insertStatement(schema: string): InsertStatement {
  let statement = statements.get(schema)
  if (!statement) {
    statement = {
      name: statementName('bazaar_outbox', schema),
      text: `insert into ${ident(schema)}.outbox (message_id, routing_key, payload, properties, trace_context) values ($1, $2, $3, $4, $5)`
    }
    statements.set(schema, statement)
  }
  return statement
}

/** The trace context stored on the row: the one the message carries. */
function traceContextOf(properties: { headers: Record<string, unknown> }): string | null {
  const value = properties.headers[TRACEPARENT]
  return typeof value === 'string' ? value : null
}

/**
 * Records an event in the outbox inside the caller's transaction: it is
 * published if and only if that transaction commits. The payload is checked
 * against its contract now, so a bad event fails the state change that caused it.
 * Request, correlation and causation ids are taken from the work in progress.
 *
 * With a `sqlTransaction()` the insert is sent without waiting for its answer:
 * it goes out with the COMMIT, and a failed insert fails the commit.
 */
export async function writeOutbox<K extends RoutingKey>(
  trx: OutboxTransaction,
  identity: OutboxIdentity,
  routingKey: K,
  payload: EventPayload<K>,
  meta: MessageMeta = {}
): Promise<string> {
  const check = checkContract(routingKey, payload)
  if (!check.ok) throw new BusError('CONTRACT_VIOLATION', check.reason)
  // With tracing on, the write is a `create` span, child of the work's; the message carries its context.
  const produced = startProducerSpan('create', names.eventsExchange(identity.namespace), routingKey, identity.appId)
  const span = produced?.span
  const properties = eventProperties(routingKey, meta, identity, payload, produced?.traceparent)
  if (span?.isRecording()) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, properties.messageId)
  const { name, text } = insertStatement(identity.schema)
  const values = [properties.messageId, routingKey, JSON.stringify(payload), JSON.stringify(properties), traceContextOf(properties)]
  try {
    if (isSqlTransaction(trx)) {
      trx.defer(text, values, name)
    } else {
      // Plain SQL on the transaction's own connection: the same statement knex would send, without building it each time.
      if (trx.isCompleted()) throw new Error(`transaction already finished: ${routingKey} not written to the outbox`)
      const client = await connectionOf(trx)
      await client.query({ name, text, values })
    }
  } catch (err) {
    endSpan(span, err)
    throw err
  }
  endSpan(span)
  signalOnCommit(trx, identity.schema)
  return properties.messageId
}

/** The routing key of a batch row (writeOutboxMany): never published itself, only the messages it carries. */
export const OUTBOX_BATCH = 'outbox.batch'

/** One message of a batch row, as stored: message id, routing key, payload, properties, trace context. */
export type BatchedMessage = [string, string, unknown, Options.Publish, string | null]

/**
 * Many events in one outbox row, in the caller's transaction: the messages
 * writeOutbox() would write one by one (each checked against its contract,
 * each with its own message id and properties), stored as one `messages`
 * document. The relay publishes them in their order, at the row's place in
 * id order, and records each in event_log: consumers see exactly the
 * messages separate rows would have given. For bulk work such as an import's
 * chunk, where a row per event (its insert, index entries, and the relay's
 * delete) was a third of the database's time.
 */
export async function writeOutboxMany(
  trx: Knex.Transaction,
  identity: OutboxIdentity,
  events: ReadonlyArray<{ [K in RoutingKey]: { routingKey: K; payload: EventPayload<K>; meta?: MessageMeta } }[RoutingKey]>
): Promise<string[]> {
  if (events.length === 0) return []
  const ids: string[] = []
  const messages: BatchedMessage[] = []
  for (const { routingKey, payload, meta } of events) {
    const check = checkContract(routingKey, payload)
    if (!check.ok) throw new BusError('CONTRACT_VIOLATION', check.reason)
    const properties = eventProperties(routingKey, meta ?? {}, identity, payload)
    ids.push(properties.messageId)
    messages.push([properties.messageId, routingKey, payload, properties, traceContextOf(properties)])
  }
  if (trx.isCompleted()) throw new Error('transaction already finished: events not written to the outbox')
  const client = await connectionOf(trx)
  // payload: the number of messages, which the relay's claim counts (outbox-relay.ts) without reading the document
  await client.query({
    text: `insert into ${ident(identity.schema)}.outbox (message_id, routing_key, payload, properties, messages) values ($1, $2, $3, '{}', $4)`,
    values: [`batch:${randomUUID()}`, OUTBOX_BATCH, JSON.stringify({ messages: messages.length }), JSON.stringify(messages)]
  })
  signalOnCommit(trx, identity.schema)
  return ids
}
