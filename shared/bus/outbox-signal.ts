import type { Knex } from 'knex'

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
const signalled = new WeakSet<Knex.Transaction>()

/** A relay registers for its schema; the returned function unregisters it. */
export function onOutboxCommitted(schema: string, wake: Wake): () => void {
  let set = relays.get(schema)
  if (!set) relays.set(schema, (set = new Set()))
  set.add(wake)
  return () => set.delete(wake)
}

/** Called by the outbox writer: wakes the schema's relays when (and only if) `trx` commits. */
export function signalOnCommit(trx: Knex.Transaction, schema: string): void {
  if (signalled.has(trx)) return
  signalled.add(trx)
  trx.executionPromise.then(
    () => {
      for (const wake of relays.get(schema) ?? []) wake()
    },
    () => {} // rolled back: nothing to publish
  )
}
