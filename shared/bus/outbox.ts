import type { Knex } from 'knex'
import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import { checkContract } from '../contracts/validate.ts'
import { BusError } from './errors.ts'
import { eventProperties, type MessageMeta } from './message.ts'
import { signalOnCommit } from './outbox-signal.ts'

export interface OutboxIdentity {
  namespace: string
  appId: string
  /** the schema whose outbox table receives the row */
  schema: string
}

/** The NOTIFY channel a schema's relay listens on. */
export const outboxChannel = (schema: string) => `${schema}_outbox`

/**
 * Records an event in the outbox inside the caller's transaction: it is
 * published if and only if that transaction commits. The payload is checked
 * against its contract now, so a bad event fails the state change that caused it.
 * Request, correlation and causation ids are taken from the work in progress.
 */
export async function writeOutbox<K extends RoutingKey>(
  trx: Knex.Transaction,
  identity: OutboxIdentity,
  routingKey: K,
  payload: EventPayload<K>,
  meta: MessageMeta = {}
): Promise<string> {
  const check = checkContract(routingKey, payload)
  if (!check.ok) throw new BusError('CONTRACT_VIOLATION', check.reason)
  const properties = eventProperties(routingKey, meta, identity)
  await trx.withSchema(identity.schema).table('outbox').insert({
    message_id: properties.messageId,
    routing_key: routingKey,
    payload: JSON.stringify(payload),
    properties: JSON.stringify(properties)
  })
  signalOnCommit(trx, identity.schema)
  return properties.messageId
}
