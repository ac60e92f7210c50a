import type { Knex } from 'knex'
import { isSqlTransaction, type SqlTransaction } from './sql.ts'

/**
 * How a committed outbox row wakes its relay without a NOTIFY inside the
 * writer's transaction: PostgreSQL serialises the commits of transactions that
 * NOTIFY (a global queue lock taken at commit), which capped the producer at a
 * third of its rate. Instead, the writer asks, once per transaction, to be told
 * when it committed; relays of the same schema in this process wake at once,
 * and one of them passes a coalesced NOTIFY on to relays in other processes.
 */
type Wake = () => void

const relays = new Map<string, Set<Wake>>()
const signalled = new WeakSet<object>()

/** A relay registers for its schema; the returned function unregisters it. */
export function onOutboxCommitted(schema: string, wake: Wake): () => void {
  let set = relays.get(schema)
  if (!set) relays.set(schema, (set = new Set()))
  set.add(wake)
  return () => set.delete(wake)
}

function wakeRelays(schema: string): void {
  for (const wake of relays.get(schema) ?? []) wake()
}

/** Called by the outbox writer: wakes the schema's relays when (and only if) `trx` commits. */
export function signalOnCommit(trx: Knex.Transaction | SqlTransaction, schema: string): void {
  if (signalled.has(trx)) return
  signalled.add(trx)
  if (isSqlTransaction(trx)) {
    trx.onCommit(() => wakeRelays(schema))
    return
  }
  trx.executionPromise.then(
    () => wakeRelays(schema),
    () => {} // rolled back: nothing to publish
  )
}
