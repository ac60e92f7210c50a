import { AsyncLocalStorage } from 'node:async_hooks'
import { EventEmitter } from 'node:events'
import type { Knex } from 'knex'
import { currentContext, runWithContext } from '../log/context.ts'
import type { Logger } from '../log/logger.ts'
import type { RoutingKey } from '../contracts/index.ts'
import type { Envelope } from './envelope.ts'
import type pg from 'pg'
import type { BusLane } from './lane.ts'
import { connectionOf, ident, statementName } from './sql.ts'

export interface InboxOptions {
  db: Knex
  schema: string
  /** names the consumer in the inbox: one message may be processed once per consumer */
  consumer: string
  logger?: Logger
  /**
   * Commits deliveries that arrive together in one transaction instead of one
   * each (off by default). For consumers with many small, database-only
   * effects: the effects of a batch run one after the other on one
   * connection, so an effect that waits on something slow (an SMTP send)
   * would hold up the others; leave it off there.
   */
  batch?: boolean | InboxBatchOptions
  /** the bus's PostgreSQL lane (lane.ts): where `batch.pipelined` runs its transactions */
  lane?: BusLane
}

export interface InboxBatchOptions {
  /** most deliveries in one transaction (default 50) */
  maxSize?: number
  /** batches in flight at once, each on its own connection (default 2) */
  concurrency?: number
  /**
   * Starts the effects of a batch together instead of one after the other,
   * in the batch's transaction on a connection of `lane` (required), which
   * pipelines: their statements leave in one write and are answered in one
   * round trip, so a batch costs three round trips (BEGIN with the claim of its
   * ids, the effects, COMMIT) whatever its size, where one after the other it
   * costs one more per effect. Only for effects that do not depend on what
   * another delivery's effect writes before them (inserts, single-statement
   * updates such as `set stock = stock - $1`): the effects of a batch run
   * interleaved. What commits is unchanged: the effects and inbox rows of a
   * batch commit together or not at all, and a failed effect is retried as
   * without it.
   */
  pipelined?: boolean
}

/** What the inbox absorbed, for whoever counts it (shared/metrics): `schema` tells apps of one process apart. */
export interface DuplicateSkipped {
  schema: string
  consumer: string
  routingKey: string
  messageId: string
  requestId?: string
}

/**
 * The inbox's one event, `duplicate`: a redelivery whose effect was not run again. Module-wide because
 * `idempotent()` is called with options, not with an app; a listener filters by `schema`.
 */
export const inboxEvents = new EventEmitter<{ duplicate: [DuplicateSkipped] }>()
inboxEvents.setMaxListeners(0)

type Effect<K extends RoutingKey> = (message: Envelope<K>, trx: Knex.Transaction) => Promise<void>

interface InboxStatements {
  claimOne: { name: string; text: string }
  claimMany: { name: string; text: string }
}

function statementsFor(schema: string): InboxStatements {
  const inbox = `${ident(schema)}.inbox`
  return {
    claimOne: {
      name: statementName('bazaar_inbox_one', schema),
      text: `insert into ${inbox} (consumer, message_id) values ($1, $2) on conflict do nothing`
    },
    // Sorted, so two batches claiming the same ids lock them in the same order.
    claimMany: {
      name: statementName('bazaar_inbox_many', schema),
      text:
        `insert into ${inbox} (consumer, message_id) select $1, id from unnest($2::text[]) as ids(id) order by id ` +
        'on conflict do nothing returning message_id'
    }
  }
}

/**
 * Idempotent consumer: runs the effect inside a transaction that first records
 * (consumer, message id). A redelivered message finds its row and is acked
 * without running the effect again. Outbox writes made with the same `trx`
 * commit with the effect.
 *
 * With `batch`, deliveries handed over while a transaction is being prepared
 * share it: their ids are claimed by one insert and their effects run one
 * after the other (or all at once, `batch.pipelined`). When an effect fails,
 * the whole transaction is rolled back, only that delivery fails (to be
 * retried; pipelined, every delivery whose effect failed), and the others run
 * again in a new transaction: an effect may run more than once, but only one run ever
 * commits (another reason to keep batches to database-only effects). Every
 * delivery of the batch is answered once its transaction has committed, so
 * nothing is acked before its effect is durable.
 */
export function idempotent<K extends RoutingKey>(options: InboxOptions, effect: Effect<K>): (message: Envelope<K>) => Promise<void> {
  const statements = statementsFor(options.schema)
  const single = (message: Envelope<K>) => runOne(options, statements, effect, message)
  if (!options.batch) return single
  const batcher = new InboxBatcher<K>(options, statements, effect, options.batch === true ? {} : options.batch)
  return (message) => batcher.submit(message)
}

async function runOne<K extends RoutingKey>(
  options: InboxOptions,
  statements: InboxStatements,
  effect: Effect<K>,
  message: Envelope<K>
): Promise<void> {
  await options.db.transaction(async (trx) => {
    const client = await connectionOf(trx)
    const { rowCount } = await client.query({ ...statements.claimOne, values: [options.consumer, message.id] })
    if (!rowCount) {
      options.logger?.info({ messageId: message.id, consumer: options.consumer }, 'duplicate delivery skipped')
      inboxEvents.emit('duplicate', { schema: options.schema, consumer: options.consumer, routingKey: message.routingKey, messageId: message.id, requestId: message.requestId })
      return
    }
    await effect(message, trx)
  })
}

interface Pending<K extends RoutingKey> {
  message: Envelope<K>
  /** the effect, bound to the delivery's work context (request, correlation and causation ids) */
  run: (trx: Knex.Transaction) => Promise<void>
  resolve(): void
  reject(err: unknown): void
  /** what its effect threw, in the batch's transaction */
  error?: unknown
}

/**
 * Runs `fn` in the context this module was loaded in (no work in progress),
 * so a batch started by one delivery does not carry that delivery's ids into
 * the others' effects. Taken once: a snapshot per delivery costs more than the
 * rest of its trip through the inbox.
 */
const outsideAnyContext = AsyncLocalStorage.snapshot()

/** Groups deliveries into transactions: one starts as soon as a connection slot is free, with whatever has arrived. */
class InboxBatcher<K extends RoutingKey> {
  private queue: Array<Pending<K>> = []
  private running = 0
  private scheduled = false
  private readonly maxSize: number
  private readonly concurrency: number
  private readonly lane?: BusLane

  constructor(
    private readonly options: InboxOptions,
    private readonly statements: InboxStatements,
    private readonly effect: Effect<K>,
    batch: InboxBatchOptions
  ) {
    this.maxSize = Math.max(1, batch.maxSize ?? 50)
    this.concurrency = Math.max(1, batch.concurrency ?? 2)
    if (batch.pipelined) {
      if (!options.lane) throw new Error('idempotent(): batch.pipelined needs the bus lane (options.lane) to run on')
      this.lane = options.lane
    }
  }

  submit(message: Envelope<K>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The delivery's work context, to run its effect in later (batches themselves run outside any).
      const context = currentContext()
      const run = (trx: Knex.Transaction) => runWithContext(context, () => this.effect(message, trx))
      this.queue.push({ message, run, resolve, reject })
      this.schedule()
    })
  }

  /** Waits for the rest of this turn's deliveries (they come in bursts, one per socket read), then starts batches. */
  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || this.queue.length === 0) return
    this.scheduled = true
    outsideAnyContext(() => setImmediate(() => {
      this.scheduled = false
      while (this.running < this.concurrency && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxSize)
        this.running++
        void this.run(batch).finally(() => {
          this.running--
          this.schedule()
        })
      }
    }))
  }

  private async run(batch: Array<Pending<K>>): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending<K>]
      return runOne(this.options, this.statements, (_message, trx) => only.run(trx), only.message).then(only.resolve, only.reject)
    }
    let failed: Array<Pending<K>> = []
    try {
      await this.transaction(async (trx) => {
        failed = await this.inTransaction(trx, batch)
        // Rolled back as a whole: the effects that ran beside the failing ones ran in a transaction that never commits.
        if (failed.length > 0) throw failed[0]!.error
      })
    } catch (err) {
      if (failed.length > 0) {
        for (const pending of failed) pending.reject(pending.error)
        // The others again, without them, in a fresh transaction: their first run left nothing behind.
        return this.run(batch.filter((pending) => !failed.includes(pending)))
      }
      // Nothing of the batch committed: every delivery fails and is retried (the inbox keeps the effects once).
      for (const pending of batch) pending.reject(err)
      return
    }
    for (const pending of batch) pending.resolve()
  }

  /**
   * A knex transaction on the service's pool, or pipelined: on a lane
   * connection (knex's `connection` option), which goes back to the lane once
   * the transaction has ended (dropped if it broke).
   */
  private async transaction(work: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
    if (!this.lane) return this.options.db.transaction(work)
    const client = await this.lane.connect()
    let broken: Error | undefined
    const onError = (err: Error) => (broken = err)
    client.on('error', onError)
    try {
      await this.options.db.transaction(work, { connection: client as pg.PoolClient })
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  /**
   * Claims the batch's ids and runs its effects, one after the other or (pipelined)
   * all at once, with no savepoint between them (each would be a round trip):
   * returns the deliveries whose effects failed (one after the other: the first), for the caller to roll the batch back.
   */
  private async inTransaction(trx: Knex.Transaction, batch: Array<Pending<K>>): Promise<Array<Pending<K>>> {
    const { consumer, logger, schema } = this.options
    // The inbox rows go on the transaction's own connection: they commit or roll back with the effects.
    const client = await connectionOf(trx)
    const ids = [...new Set(batch.map((p) => p.message.id))]
    const { rows } = await client.query<{ message_id: string }>({ ...this.statements.claimMany, values: [consumer, ids] })
    const claimed = new Set(rows.map((r) => r.message_id))
    const toRun: Array<Pending<K>> = []
    for (const pending of batch) {
      const id = pending.message.id
      // A second delivery of an id in the same batch finds it claimed by the first, as in the table.
      if (!claimed.delete(id)) {
        logger?.info({ messageId: id, consumer }, 'duplicate delivery skipped')
        inboxEvents.emit('duplicate', { schema, consumer, routingKey: pending.message.routingKey, messageId: pending.message.id, requestId: pending.message.requestId })
        continue
      }
      toRun.push(pending)
    }
    if (this.lane) return this.runTogether(trx, toRun)
    for (const pending of toRun) {
      try {
        await pending.run(trx)
      } catch (err) {
        pending.error = err ?? new Error('effect failed')
        return [pending]
      }
    }
    return []
  }

  /**
   * The pipelined batch: every effect started at once, all awaited; the
   * deliveries whose effects failed fail (each ran, and failed, on its own).
   * When a statement fails, PostgreSQL refuses every later one in the
   * transaction (25P02, in_failed_sql_transaction): effects refused so are
   * not the cause and run again, unless no other failed (the cause swallowed
   * its own error): then the first of them fails, so every pass takes one
   * delivery out and the retries end.
   */
  private async runTogether(trx: Knex.Transaction, toRun: Array<Pending<K>>): Promise<Array<Pending<K>>> {
    const outcomes = await Promise.allSettled(toRun.map((pending) => pending.run(trx)))
    const failed: Array<Pending<K>> = []
    let refused: Pending<K> | undefined
    for (let i = 0; i < toRun.length; i++) {
      const outcome = outcomes[i]!
      if (outcome.status === 'fulfilled') continue
      const pending = toRun[i]!
      pending.error = outcome.reason ?? new Error('effect failed')
      if (isAbortedTransaction(outcome.reason)) refused ??= pending
      else failed.push(pending)
    }
    return failed.length === 0 && refused ? [refused] : failed
  }
}

/** PostgreSQL's answer to a statement sent after another failed in the same transaction. */
const isAbortedTransaction = (err: unknown) => (err as { code?: unknown } | null)?.code === '25P02'

/** Deletes inbox rows (and the trace records of `bazaar trace`) older than the retention window, periodically. */
export class InboxJanitor {
  private timer?: NodeJS.Timeout

  constructor(
    private readonly options: { db: Knex; schema: string; retentionMs?: number; intervalMs?: number; logger?: Logger }
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 3_600_000
    this.timer = setInterval(() => void this.sweep().catch(() => {}), interval)
    this.timer.unref()
  }

  /** Removes rows past retention; returns how many. */
  async sweep(): Promise<number> {
    const retentionMs = this.options.retentionMs ?? 7 * 24 * 3_600_000
    const cutoff = new Date(Date.now() - retentionMs)
    const removed = await this.options.db
      .withSchema(this.options.schema)
      .table('inbox')
      .where('processed_at', '<', cutoff)
      .delete()
    if (removed) this.options.logger?.info({ removed }, 'inbox rows past retention removed')
    // what `bazaar trace` reads (trace-table.ts) is kept as long as the inbox rows it joins
    const events = await this.options.db.withSchema(this.options.schema).table('event_log').where('relayed_at', '<', cutoff).delete()
    const outcomes = await this.options.db.withSchema(this.options.schema).table('message_outcomes').where('at', '<', cutoff).delete()
    if (events || outcomes) this.options.logger?.info({ events, outcomes }, 'trace records past retention removed')
    return removed
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
