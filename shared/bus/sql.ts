import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type pg from 'pg'

/**
 * Plain node-postgres on the bus's hot paths (outbox insert, relay, inbox),
 * on connections borrowed from the service's knex pool: no query builder,
 * statements prepared once per connection, and several statements written in
 * one go (pipelined) instead of one round trip each. On this kind of machine
 * a round trip to PostgreSQL costs more than the statement itself.
 */

type PipelineClient = pg.Client & { pipeline: boolean; connection?: { stream?: NodeJS.WritableStream & { cork?(): void; uncork?(): void } } }

/**
 * Whether node-postgres still awaits answers on this connection (its own
 * bookkeeping, read defensively: on a version without it, nothing is assumed
 * outstanding beyond the statements a Pipeline tracks itself).
 */
function outstanding(client: pg.Client): boolean {
  const state = client as unknown as { _sentQueryQueue?: unknown[]; _queryQueue?: unknown[]; _activeQuery?: unknown; _queryable?: boolean }
  if (state._queryable === false) return false // broken: every query has been failed already
  return Boolean(state._activeQuery) || (state._sentQueryQueue?.length ?? 0) > 0 || (state._queryQueue?.length ?? 0) > 0
}

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
 * Sends statements on `client` without waiting for the answer to the one
 * before (node-postgres pipeline mode), and coalesces those issued in the same
 * turn of the event loop into one socket write. Each statement still gets its
 * own result or error. `end()` waits for every answer and puts the connection
 * back in ordinary mode, as the pool expects it.
 */
export class Pipeline {
  private readonly sent = new Set<Promise<unknown>>()
  private corked = false
  private readonly wasPipelined: boolean

  constructor(readonly client: pg.Client) {
    const c = client as PipelineClient
    this.wasPipelined = c.pipeline
    c.pipeline = true
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    this.cork()
    const config: pg.QueryConfig = name ? { name, text, values } : values ? { text, values } : { text }
    const result = this.client.query<R>(config)
    this.sent.add(result)
    // settled promises are forgotten; a rejection is the caller's to handle (this copy only tracks it)
    result.then(
      () => this.sent.delete(result),
      () => this.sent.delete(result)
    )
    return result
  }

  /**
   * Waits until every statement sent has been answered, then leaves pipeline
   * mode. Statements others sent on the connection meanwhile (a knex query an
   * effect started and did not await) are waited for too: leaving pipeline
   * mode with answers outstanding would hand them to the wrong queries.
   */
  async end(): Promise<void> {
    while (this.sent.size) await Promise.allSettled([...this.sent])
    while (outstanding(this.client)) await this.client.query('select 1').catch(() => {})
    ;(this.client as PipelineClient).pipeline = this.wasPipelined
  }

  private cork(): void {
    if (this.corked) return
    const stream = (this.client as PipelineClient).connection?.stream
    if (!stream?.cork || !stream.uncork) return
    stream.cork()
    this.corked = true
    process.nextTick(() => {
      this.corked = false
      stream.uncork!()
    })
  }
}

/**
 * A transaction on one pooled connection, without knex: BEGIN goes out with
 * the first statement and COMMIT with the last, so a short transaction (an
 * insert and its outbox row) costs two round trips instead of four.
 * Use `sqlTransaction()`; `writeOutbox()` accepts it like a knex transaction.
 */
export class SqlTransaction {
  private readonly pipeline: Pipeline
  private readonly committed: Array<() => void> = []
  /** statements whose result nobody awaits (writeOutbox's insert): COMMIT is refused if one failed */
  private readonly deferred: Array<Promise<unknown>> = []
  private done = false

  constructor(readonly client: pg.Client) {
    this.pipeline = new Pipeline(client)
  }

  /** Runs a parameterised statement in the transaction. `name` prepares it once per connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    if (this.done) return Promise.reject(new Error('transaction already finished'))
    return this.pipeline.query<R>(text, values, name)
  }

  /**
   * Sends a statement whose result is not needed now: the COMMIT follows it
   * in the same write, and fails the transaction if it failed.
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
    this.pipeline.query('BEGIN').catch(() => {}) // a failed BEGIN fails the statements behind it
  }

  /** @internal */
  async commit(): Promise<void> {
    const commit = this.pipeline.query('COMMIT')
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
    await this.pipeline.query('ROLLBACK').catch(() => {})
  }

  /** @internal */
  async end(): Promise<void> {
    await this.pipeline.end()
  }

  /** @internal */
  runCommitted(): void {
    for (const callback of this.committed) callback()
  }
}

/**
 * Runs `work` in a transaction on a connection of the knex pool, with plain
 * parameterised SQL (`tx.query`). For the hot paths where knex's per-transaction
 * cost dominates (a service taking thousands of writes a second): the outbox
 * row written with `writeOutbox(tx, ...)` commits with the work, as with knex.
 */
export async function sqlTransaction<T>(db: Knex, work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  return withConnection(db, async (client) => {
    const tx = new SqlTransaction(client)
    let value: T
    try {
      tx.begin()
      value = await work(tx)
      await tx.commit()
    } catch (err) {
      await tx.rollback()
      await tx.end()
      throw err
    }
    await tx.end()
    tx.runCommitted()
    return value
  })
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
