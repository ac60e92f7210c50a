import type { Knex } from 'knex'

/** The NOTIFY channel a schema's runners listen on. */
export const jobsChannel = (schema: string) => `${schema}_jobs`

/** The payload `cancel:<id>` tells runners a job they may hold (claimed, waiting) was cancelled. */
export const CANCEL_PREFIX = 'cancel:'

type Wake = () => void
const runners = new Map<string, Set<Wake>>()

/** A runner registers for its schema (to be woken by writers in this process); the returned function unregisters it. */
export function onJobsWritten(schema: string, wake: Wake): () => void {
  let set = runners.get(schema)
  if (!set) runners.set(schema, (set = new Set()))
  set.add(wake)
  return () => set.delete(wake)
}

const signalled = new WeakSet<object>()

/**
 * Tells the schema's runners that a job or fire was written: a NOTIFY in the
 * writer's transaction (runners in other processes; delivered only if it
 * commits, coalesced to one per transaction by PostgreSQL), and, in this
 * process, a wake-up once it committed.
 */
export async function signalJobsWritten(db: Knex | Knex.Transaction, schema: string): Promise<void> {
  const wake = () => wakeRunners(schema)
  if (!isTransaction(db)) {
    await db.raw('select pg_notify(?, ?)', [jobsChannel(schema), '1'])
    wake()
    return
  }
  if (signalled.has(db)) return
  signalled.add(db)
  await db.raw('select pg_notify(?, ?)', [jobsChannel(schema), '1'])
  db.executionPromise.then(wake, () => {})
}

/** Wakes this process's runners of the schema, after a write that committed (and sent its own NOTIFY). */
export function wakeRunners(schema: string): void {
  for (const runner of runners.get(schema) ?? []) runner()
}

export function isTransaction(db: Knex | Knex.Transaction): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true
}
