import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type pg from 'pg'
import { connectionOf, ident } from '../bus/sql.ts'
import { JobError } from './errors.ts'
import { isTransaction, jobsChannel, signalJobsWritten, wakeRunners } from './signal.ts'
import type { ScheduleJobOptions } from './types.ts'

export type ManyJob<P> = Omit<ScheduleJobOptions<P>, 'onConflict'>
export type OnConflict = NonNullable<ScheduleJobOptions<unknown>['onConflict']>
export interface Scheduled {
  id: string
  created: boolean
}

/** One row to insert: its id chosen here, its time as an absolute instant or a delay from the database clock. */
interface Row {
  id: string
  key: string | null
  payload: string
  at: string | null
  delayMs: number | null
}

function rowOf<P>(job: ManyJob<P>, index: number): Row {
  const runAt = job.runAt
  let at: string | null = null
  let delayMs: number | null = 0
  if (runAt instanceof Date) {
    if (Number.isNaN(runAt.getTime())) throw new JobError('CONTRACT_VIOLATION', `jobs[${index}].runAt is not a valid date`)
    at = runAt.toISOString()
    delayMs = null
  } else if (runAt !== undefined) {
    if (!Number.isFinite(runAt.delayMs)) throw new JobError('CONTRACT_VIOLATION', `jobs[${index}].runAt.delayMs must be a number of milliseconds (got ${runAt.delayMs})`)
    delayMs = Math.max(0, runAt.delayMs)
  }
  return { id: randomUUID(), key: job.key ?? null, payload: JSON.stringify(job.payload ?? null), at, delayMs }
}

/**
 * Inserts many jobs of one name with ONE statement (unnest of arrays) in the
 * caller's transaction, with schedule()'s key semantics as if the jobs were
 * scheduled one after another: a key already pending, or twice in the call, is
 * refused (the whole call, nothing inserted), kept (the first wins) or replaced
 * (the last one's payload and time, the first one's id). The insert runs in a
 * savepoint (or its own transaction), so a refusal leaves nothing behind.
 * One NOTIFY for the call, sent in the transaction that commits the rows. Results are in the order of `jobs`.
 */
export async function insertJobs<P>(
  db: Knex | Knex.Transaction,
  schema: string,
  name: string,
  jobs: ManyJob<P>[],
  onConflict: OnConflict = 'refuse'
): Promise<Scheduled[]> {
  if (!jobs.length) return []
  const rows = jobs.map(rowOf)
  // one row per key (ON CONFLICT cannot touch a row twice in one statement): which row each job maps to
  const firstOfKey = new Map<string, number>()
  const target = rows.map((row, i) => {
    if (row.key === null) return i
    const first = firstOfKey.get(row.key)
    if (first === undefined) {
      firstOfKey.set(row.key, i)
      return i
    }
    if (onConflict === 'refuse') throw new JobError('DUPLICATE_KEY', `key "${row.key}" is given twice for "${name}" (jobs[${first}] and jobs[${i}])`)
    // replace: the later job's payload and time go in the first one's row (and id)
    if (onConflict === 'replace') rows[first] = { ...row, id: rows[first]!.id }
    return first
  })
  const unique = rows.filter((_, i) => target[i] === i)
  // Outside a transaction and without keys nothing can be refused: ONE statement, committed on its own with
  // its NOTIFY, instead of begin, insert, notify, commit (four round trips, while the runners drain).
  if (!isTransaction(db) && unique.every((r) => r.key === null)) {
    await insertWithoutKeys(db, schema, name, unique)
    wakeRunners(schema)
    return unique.map((r) => ({ id: r.id, created: true }))
  }
  const results = await db.transaction(async (trx) => {
    const inserted = await insertUnique(trx, schema, name, unique, onConflict)
    // in our own transaction: the NOTIFY goes with its commit (no round trip of its own)
    if (!isTransaction(db)) await signalJobsWritten(trx, schema)
    return inserted
  })
  // in the caller's: with theirs (a savepoint's release is not a commit)
  if (isTransaction(db)) await signalJobsWritten(db, schema)
  return rows.map((_, i) => {
    const result = results.get(rows[target[i]!]!.id)!
    // a later job with a key earlier in the call: the job it was folded into
    return target[i] === i ? result : { id: result.id, created: false }
  })
}

/** Rows without keys, in one autocommitted statement that also sends the runners' NOTIFY (at its commit). */
async function insertWithoutKeys(db: Knex, schema: string, name: string, rows: Row[]): Promise<void> {
  // a connection of the pool for one statement: the arrays go as parameters ($n), as in insertUnique
  const client = (await db.client.acquireConnection()) as pg.Client
  try {
    await client.query(
      `with inserted as (
         insert into ${ident(schema)}.jobs (id, name, payload, run_at, due_at)
         select t.id, $1, t.payload, t.at, t.at
         from (select id, payload, coalesce(at, clock_timestamp() + delay_ms * interval '1 millisecond') as at
               from unnest($2::uuid[], $3::jsonb[], $4::timestamptz[], $5::float8[]) as u(id, payload, at, delay_ms)) t
       )
       select pg_notify($6, '1')`,
      [name, rows.map((r) => r.id), rows.map((r) => r.payload), rows.map((r) => r.at), rows.map((r) => r.delayMs), jobsChannel(schema)]
    )
  } finally {
    await db.client.releaseConnection(client)
  }
}

/** The insert itself: results by the id each row was given here. */
async function insertUnique(trx: Knex.Transaction, schema: string, name: string, rows: Row[], onConflict: OnConflict): Promise<Map<string, Scheduled>> {
  const table = `${ident(schema)}.jobs`
  const client = await connectionOf(trx)
  const conflict =
    onConflict === 'replace'
      ? `do update set payload = excluded.payload, run_at = excluded.run_at, due_at = excluded.due_at, attempts = 0, last_error = null`
      : 'do nothing'
  const { rows: inserted } = await client.query<{ id: string; key: string | null; created: boolean }>(
    `insert into ${table} (id, name, key, payload, run_at, due_at)
     select t.id, $1, t.key, t.payload, t.at, t.at
     from (select id, key, payload, coalesce(at, clock_timestamp() + delay_ms * interval '1 millisecond') as at
           from unnest($2::uuid[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::float8[]) as u(id, key, payload, at, delay_ms)) t
     on conflict (name, key) where state = 'pending' and key is not null ${conflict}
     returning id, key, (xmax = 0) as created`,
    [name, rows.map((r) => r.id), rows.map((r) => r.key), rows.map((r) => r.payload), rows.map((r) => r.at), rows.map((r) => r.delayMs)]
  )
  const byKey = new Map(inserted.filter((r) => r.key !== null).map((r) => [r.key!, r]))
  const results = new Map<string, Scheduled>()
  const missing: Row[] = []
  for (const row of rows) {
    const got = row.key === null ? { id: row.id, created: true } : byKey.get(row.key)
    if (got) results.set(row.id, { id: got.id, created: got.created })
    else missing.push(row)
  }
  if (!missing.length) return results
  // do nothing left these out: a job with the key is pending
  if (onConflict === 'refuse') {
    const keys = missing.map((r) => `"${r.key}"`)
    throw new JobError('DUPLICATE_KEY', `a pending "${name}" job exists with key ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`)
  }
  const { rows: existing } = await client.query<{ id: string; key: string }>(
    `select id, key from ${table} where name = $1 and key = any($2::text[]) and state = 'pending'`,
    [name, missing.map((r) => r.key)]
  )
  const existingByKey = new Map(existing.map((r) => [r.key, r.id]))
  const again: Row[] = []
  for (const row of missing) {
    const id = existingByKey.get(row.key!)
    if (id) results.set(row.id, { id, created: false })
    else again.push(row) // it finished between the insert and this read: schedule it again (rare)
  }
  if (again.length) for (const [id, result] of await insertUnique(trx, schema, name, again, onConflict)) results.set(id, result)
  return results
}
