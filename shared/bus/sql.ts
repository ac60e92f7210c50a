import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type pg from 'pg'
import type { BusLane } from './lane.ts'

/**
 * Plain node-postgres on the bus's hot paths: no query builder, statements
 * prepared once per connection. Statements of a service's transaction go on
 * that transaction's own connection (`connectionOf`); those the bus sends on
 * its own go on its lane (lane.ts), whose connections pipeline.
 */

/** A connection from the knex pool, for `work`, returned afterwards. */
export async function withConnection<T>(db: Knex, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = (await db.client.acquireConnection()) as pg.Client
  try {
    return await work(client)
  } finally {
    await db.client.releaseConnection(client)
  }
}

/** The connection a knex transaction runs on (its client hands out only that one). */
export async function connectionOf(trx: Knex.Transaction): Promise<pg.Client> {
  return (await trx.client.acquireConnection()) as pg.Client
}

/**
 * Statements sent on one lane connection, each with its own result or error,
 * written without waiting for the answers before them (the lane pipelines).
 * `settled()` waits for every answer, so the connection goes back to the pool
 * with nothing outstanding.
 */
export class LaneStatements {
  private readonly sent = new Set<Promise<unknown>>()

  constructor(readonly client: pg.PoolClient) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    const config: pg.QueryConfig = name ? { name, text, values } : values ? { text, values } : { text }
    const result = this.client.query<R>(config)
    this.sent.add(result)
    // settled statements are forgotten; a rejection is the caller's to handle (this copy only tracks it)
    result.then(
      () => this.sent.delete(result),
      () => this.sent.delete(result)
    )
    return result
  }

  async settled(): Promise<void> {
    while (this.sent.size) await Promise.allSettled([...this.sent])
  }
}

/** A lane connection for `work`, given back once every statement sent on it is answered (dropped if it broke). */
export async function withLaneConnection<T>(lane: BusLane, work: (sql: LaneStatements) => Promise<T>): Promise<T> {
  const client = await lane.connect()
  const sql = new LaneStatements(client)
  let broken: Error | undefined
  const onError = (err: Error) => (broken = err)
  client.on('error', onError)
  try {
    return await work(sql)
  } finally {
    await sql.settled()
    client.off('error', onError)
    client.release(broken)
  }
}

/**
 * A transaction on one lane connection, without knex: BEGIN goes out with
 * the first statement and COMMIT with the last, so a short transaction (an
 * insert and its outbox row) waits for two round trips instead of four.
 * Use `sqlTransaction()`; `writeOutbox()` accepts it like a knex transaction.
 */
export class SqlTransaction {
  private readonly committed: Array<() => void> = []
  /** statements whose result nobody awaits (writeOutbox's insert): COMMIT is refused if one failed */
  private readonly deferred: Array<Promise<unknown>> = []
  private done = false

  constructor(private readonly sql: LaneStatements) {}

  /** Runs a parameterised statement in the transaction. `name` prepares it once per connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    if (this.done) return Promise.reject(new Error('transaction already finished'))
    return this.sql.query<R>(text, values, name)
  }

  /**
   * Sends a statement whose result is not needed now: the COMMIT follows it
   * without waiting, and fails the transaction if it failed.
   */
  defer(text: string, values?: unknown[], name?: string): void {
    const result = this.query(text, values, name)
    result.catch(() => {}) // surfaced by commit()
    this.deferred.push(result)
  }

  /** Runs `callback` after (and only if) the transaction commits. */
  onCommit(callback: () => void): void {
    this.committed.push(callback)
  }

  /** @internal */
  begin(): void {
    this.sql.query('BEGIN').catch(() => {}) // a failed BEGIN fails the statements behind it
  }

  /** @internal */
  async commit(): Promise<void> {
    const commit = this.sql.query('COMMIT')
    this.done = true
    const failed = (await Promise.allSettled(this.deferred)).find((r) => r.status === 'rejected')
    const result = await commit
    if (failed) throw (failed as PromiseRejectedResult).reason
    // COMMIT of a transaction that had an error answers ROLLBACK, without an error of its own.
    if (result.command !== 'COMMIT') throw new Error(`transaction rolled back (COMMIT answered ${result.command})`)
  }

  /** @internal */
  async rollback(): Promise<void> {
    this.done = true
    await this.sql.query('ROLLBACK').catch(() => {})
  }

  /** @internal */
  runCommitted(): void {
    for (const callback of this.committed) callback()
  }
}

/**
 * Runs `work` in a transaction on a connection of the bus's lane, with plain
 * parameterised SQL (`tx.query`). For writes outside a service's knex
 * transaction where knex's per-transaction cost dominates (thousands of writes
 * a second): the outbox row written with `writeOutbox(tx, ...)` commits with
 * the work, as with knex.
 */
export async function sqlTransaction<T>(lane: BusLane, work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  let tx: SqlTransaction | undefined
  const value = await withLaneConnection(lane, async (sql) => {
    tx = new SqlTransaction(sql)
    try {
      tx.begin()
      const value = await work(tx)
      await tx.commit()
      return value
    } catch (err) {
      await tx.rollback()
      throw err
    }
  })
  tx!.runCommitted()
  return value
}

export function isSqlTransaction(value: unknown): value is SqlTransaction {
  return value instanceof SqlTransaction
}

/**
 * The name of a statement prepared once per connection, for one schema:
 * `<purpose>_<hash of the schema>`, short enough for PostgreSQL's 63-character
 * names whatever the schema is called.
 */
export function statementName(purpose: string, schema: string): string {
  return `${purpose}_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`
}

/** A double-quoted identifier (schema and table names come from configuration, never from input). */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`
