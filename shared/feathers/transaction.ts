import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import { writeOutbox } from '../bus/outbox.ts'
import type { BusLane } from '../bus/lane.ts'
import { sqlTransaction } from '../bus/sql.ts'
import type { MessageMeta } from '../bus/message.ts'
import { checkDeclaredEmit } from '../manifest/resource.ts'
import type { HookContext } from './declarations.ts'

/**
 * Around hook: runs the method (and its before/after hooks) in one knex
 * transaction, so state changes and the events written with `emit` commit
 * or roll back together. A call already inside a transaction joins it.
 */
export function transactional() {
  return async (context: HookContext, next: () => Promise<void>) => {
    if (context.params.transaction) return next()
    await context.app.get('db').transaction(async (trx) => {
      context.params = { ...context.params, transaction: { starting: false, trx } }
      await next()
    })
  }
}

/**
 * Around hook: runs the method (and its before/after hooks) in a plain-SQL
 * transaction on a pipelined lane (`sqlTransaction()`, shared/bus/sql.ts),
 * `params.sqlTransaction`: BEGIN goes out with the first statement and
 * COMMIT with the outbox row, so a one-row write and its event wait for two
 * round trips instead of four, without knex's per-transaction cost. For a
 * resource whose class writes with `tx.query` (the reference stores' PUT).
 * `emit()` writes to the outbox in it, committed or rolled back with the rest.
 */
export function sqlTransactional(lane: () => BusLane) {
  return async (context: HookContext, next: () => Promise<void>) => {
    if (context.params.sqlTransaction || context.params.transaction) return next()
    await sqlTransaction(lane(), async (tx) => {
      context.params = { ...context.params, sqlTransaction: tx }
      await next()
    })
  }
}

/**
 * Writes an event to this service's outbox in the method's transaction: it is
 * published if and only if the transaction commits. Use from hooks inside
 * `transactional()`. Only a routing key the resource's manifest declares for
 * the method is accepted, so the documentation cannot miss an event.
 */
export async function emit<K extends RoutingKey>(
  context: HookContext,
  routingKey: K,
  payload: EventPayload<K>,
  meta?: MessageMeta
): Promise<string> {
  checkDeclaredEmit(context.self, context.path, context.method, routingKey)
  const trx = context.params.sqlTransaction ?? context.params.transaction?.trx
  if (!trx) throw new Error(`emit(${routingKey}) needs the transactional() hook (or sqlTransactional()) around ${context.path}.${context.method}`)
  const app = context.app
  return writeOutbox(trx, { namespace: app.get('namespace'), appId: app.get('service'), schema: app.get('schema') }, routingKey, payload, meta)
}
