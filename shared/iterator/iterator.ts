import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { PgListener } from '../db/listener.ts'
import type { Logger } from '../log/logger.ts'

/** A job's cursor: anything JSON (a row number, a key, a page token). */
export type Cursor = unknown

export interface StepResult<C = Cursor> {
  /** where the next step starts */
  cursor: C
  /** nothing left: the job is done (in this same transaction) */
  done: boolean
}

export interface IterationDefinition<C = Cursor> {
  /**
   * One chunk, in `trx`: its writes and outbox rows commit with the new cursor,
   * so a SIGKILL re-runs at most this chunk, never half of it. Keep it short
   * (a chunk, not the job): the job's row is locked while it runs.
   */
  step: (trx: Knex.Transaction, job: { id: string; cursor: C }) => Promise<StepResult<C>>
  /**
   * Throttle: false while whatever the steps feed is behind (a queue's
   * backlog, a counter); the iterator backs off and asks again.
   */
  ready?: (job: { id: string; cursor: C }) => Promise<boolean>
  /**
   * The job gave up (its step failed `maxAttempts` times in a row), in the
   * transaction that marks it `failed`: close what the job feeds, tell whom it
   * concerns. Not called for a job that is cancelled or paused meanwhile.
   */
  failed?: (trx: Knex.Transaction, job: { id: string; cursor: C; reason: string }) => Promise<void>
}

export interface IteratorOptions {
  db: Knex
  databaseUrl: string
  schema: string
  logger?: Logger
  /** how long a lease lasts without a heartbeat (default 10 s): a dead worker's job is taken over after it */
  leaseMs?: number
  /** jobs this process runs at once (default 2) */
  concurrency?: number
  /** longest back-off while `ready` says no (default 200 ms) */
  maxBackoffMs?: number
  /** a step failing this many times in a row fails the job (default 5) */
  maxAttempts?: number
  /** the wait after a step's first failure, doubled after each next one, at most 60 s (default 1 s) */
  retryBaseMs?: number
}

/** Longest wait between two attempts of a failing step. */
const MAX_RETRY_MS = 60_000

const channel = (schema: string) => `${schema}_iterations`

/**
 * The iterator (Shopify job-iteration, Sidekiq IterableJob): a long job is a
 * cursor and a step, in table `iterations`. A worker takes a job with a lease
 * (`SKIP LOCKED`, so two never take the same one), keeps it with a heartbeat
 * and runs step after step, each one transaction that locks the job's row,
 * checks the lease is still its own and the job still running, runs the step
 * and saves the cursor. No broker delivery is held while a job runs; a job
 * whose worker died is taken over when its lease runs out (a timer set to
 * that moment, not a poll); a new or resumed job is announced by NOTIFY.
 * Pause, resume and cancel are state changes the next step sees.
 */
export class Iterator {
  private readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`
  private readonly definitions = new Map<string, IterationDefinition<any>>()
  private readonly running = new Set<string>()
  private readonly loops = new Set<Promise<void>>()
  private listener?: PgListener
  private heartbeat?: NodeJS.Timeout
  private takeover?: NodeJS.Timeout
  private stopped = true
  private claiming = false
  private claimAgain = false
  private readonly leaseMs: number
  private readonly concurrency: number
  private readonly maxAttempts: number
  private readonly retryBaseMs: number

  constructor(private readonly options: IteratorOptions) {
    this.leaseMs = options.leaseMs ?? 10_000
    this.concurrency = options.concurrency ?? 2
    this.maxAttempts = options.maxAttempts ?? 5
    this.retryBaseMs = options.retryBaseMs ?? 1_000
  }

  define<C>(kind: string, definition: IterationDefinition<C>): void {
    this.definitions.set(kind, definition)
  }

  /** Starts a job in the caller's transaction: it exists (and is announced) iff that commits. */
  async start(trx: Knex.Transaction, kind: string, id: string, cursor: Cursor): Promise<void> {
    if (!this.definitions.has(kind)) throw new Error(`no iteration '${kind}' defined`)
    await trx.withSchema(this.options.schema).table('iterations').insert({ id, kind, cursor: JSON.stringify(cursor) })
    await this.announce(trx)
  }

  async pause(trx: Knex.Transaction, id: string): Promise<boolean> {
    return this.setState(trx, id, ['running'], 'paused')
  }

  async resume(trx: Knex.Transaction, id: string): Promise<boolean> {
    const resumed = await this.setState(trx, id, ['paused'], 'running')
    if (resumed) await this.announce(trx)
    return resumed
  }

  /** A running step finishes (its transaction holds the row); none starts after this commits. */
  async cancel(trx: Knex.Transaction, id: string): Promise<boolean> {
    return this.setState(trx, id, ['running', 'paused'], 'cancelled')
  }

  private async setState(trx: Knex.Transaction, id: string, from: string[], to: string): Promise<boolean> {
    const count = await trx.withSchema(this.options.schema).table('iterations').where({ id }).whereIn('state', from)
      .update({ state: to, lease_owner: null, lease_until: null, updated_at: trx.raw('clock_timestamp()') })
    return count > 0
  }

  private async announce(trx: Knex.Transaction): Promise<void> {
    await trx.raw('select pg_notify(?, ?)', [channel(this.options.schema), 'new'])
  }

  async startRunner(): Promise<void> {
    if (this.definitions.size === 0 || !this.stopped) return
    this.stopped = false
    this.listener = new PgListener({
      databaseUrl: this.options.databaseUrl,
      channel: channel(this.options.schema),
      onNotification: () => this.claim(),
      onListening: () => this.claim(),
      logger: this.options.logger
    })
    await this.listener.start()
    this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.leaseMs / 3)))
    this.heartbeat.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.heartbeat)
    clearTimeout(this.takeover)
    await this.listener?.stop()
    await Promise.allSettled([...this.loops])
    // handed back at once rather than when the lease runs out: another instance takes them now
    await this.options.db.raw(`update ??.iterations set lease_owner = null, lease_until = null where lease_owner = ? and state = 'running'`, [this.options.schema, this.owner])
      .catch((err: Error) => this.options.logger?.warn({ err: err.message }, 'releasing iterator leases failed'))
    await this.options.db.raw('select pg_notify(?, ?)', [channel(this.options.schema), 'released']).catch(() => {})
  }

  /** Keeps this worker's leases: a job it holds is not taken over while this process lives. */
  private async beat(): Promise<void> {
    if (this.running.size === 0) return
    await this.options.db.raw(
      `update ??.iterations set lease_until = clock_timestamp() + ? * interval '1 millisecond' where id = any(?) and lease_owner = ?`,
      [this.options.schema, this.leaseMs, [...this.running], this.owner]
    ).catch((err: Error) => this.options.logger?.warn({ err: err.message }, 'iterator heartbeat failed'))
  }

  /** Takes runnable jobs while there is room; then sets a timer for the earliest lease held by someone else. */
  private claim(): void {
    if (this.stopped) return
    if (this.claiming) {
      this.claimAgain = true
      return
    }
    this.claiming = true
    void this.claimPass()
      .catch((err: Error) => this.options.logger?.warn({ err: err.message }, 'iterator claim failed'))
      .finally(() => {
        this.claiming = false
        if (this.claimAgain) {
          this.claimAgain = false
          this.claim()
        }
      })
  }

  private async claimPass(): Promise<void> {
    const kinds = [...this.definitions.keys()]
    while (!this.stopped && this.running.size < this.concurrency) {
      const { rows } = await this.options.db.raw(
        `update ??.iterations set lease_owner = ?, lease_until = clock_timestamp() + ? * interval '1 millisecond'
         where id = (select id from ??.iterations where state = 'running' and kind = any(?)
                       and (lease_until is null or lease_until < clock_timestamp()) and not (id = any(?))
                     order by created_at limit 1 for update skip locked)
         returning id, kind`,
        [this.options.schema, this.owner, this.leaseMs, this.options.schema, kinds, [...this.running]]
      )
      const job = rows[0] as { id: string; kind: string } | undefined
      if (!job) break
      this.run(job.id, this.definitions.get(job.kind)!)
    }
    // a job leased by a worker that may be dead: look again when its lease runs out
    const { rows } = await this.options.db.raw(
      `select extract(epoch from (min(lease_until) - clock_timestamp())) * 1000 as ms from ??.iterations
       where state = 'running' and kind = any(?) and lease_until is not null and not (id = any(?))`,
      [this.options.schema, kinds, [...this.running]]
    )
    const ms = rows[0]?.ms
    clearTimeout(this.takeover)
    if (ms !== null && ms !== undefined && !this.stopped) {
      this.takeover = setTimeout(() => this.claim(), Math.max(10, Math.ceil(Number(ms)) + 10))
      this.takeover.unref()
    }
  }

  private run(id: string, definition: IterationDefinition<any>): void {
    this.running.add(id)
    const loop = this.loop(id, definition)
      .catch((err: Error) => this.attemptFailed(id, definition, err))
      .catch((err: Error) => this.options.logger?.warn({ err: err.message, iteration: id }, 'recording a failed iteration step failed; retried when its lease runs out'))
      .finally(() => {
        this.running.delete(id)
        this.loops.delete(loop)
        this.claim()
      })
    this.loops.add(loop)
  }

  private async loop(id: string, definition: IterationDefinition<any>): Promise<void> {
    let backoffMs = 5
    while (!this.stopped) {
      const current = await this.options.db.withSchema(this.options.schema).table('iterations').where({ id, lease_owner: this.owner, state: 'running' }).first('cursor')
      if (!current) return
      if (definition.ready && !(await definition.ready({ id, cursor: current.cursor }))) {
        await new Promise((resolve) => setTimeout(resolve, backoffMs))
        backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs ?? 200)
        continue
      }
      backoffMs = 5
      const more = await this.options.db.transaction(async (trx) => {
        // the lease is checked under the row lock: a worker that lost it cannot commit a step
        const row = await trx.withSchema(this.options.schema).table('iterations').where({ id, lease_owner: this.owner, state: 'running' }).forUpdate().first('cursor')
        if (!row) return false
        const result = await definition.step(trx, { id, cursor: row.cursor })
        await trx.withSchema(this.options.schema).table('iterations').where({ id }).update({
          cursor: JSON.stringify(result.cursor),
          steps: trx.raw('steps + 1'),
          attempts: 0,
          updated_at: trx.raw('clock_timestamp()'),
          ...(result.done ? { state: 'done', lease_owner: null, lease_until: null } : {})
        })
        return !result.done
      })
      if (!more) return
    }
  }

  /**
   * A step (or the loop around it) failed: counted, and the job handed back
   * with its lease set to the moment of the next attempt (1 s, 2 s, 4 s, …:
   * whoever claims then retries it; the takeover timer wakes a worker). The
   * `maxAttempts`-th failure in a row fails the job and calls `failed` in the
   * same transaction, so a step that can never succeed ends instead of being
   * retried for ever.
   */
  private async attemptFailed(id: string, definition: IterationDefinition<any>, err: Error): Promise<void> {
    const reason = err.message || String(err)
    const table = () => this.options.db.withSchema(this.options.schema).table('iterations')
    const job = await table().where({ id, lease_owner: this.owner, state: 'running' }).first('cursor', 'attempts')
    if (!job) return // cancelled, paused, or taken over meanwhile: nothing to count
    const attempts = job.attempts + 1
    if (attempts < this.maxAttempts) {
      const waitMs = Math.min(this.retryBaseMs * 2 ** (attempts - 1), MAX_RETRY_MS)
      this.options.logger?.warn({ err: reason, iteration: id, attempts, retryInMs: waitMs }, 'iteration step failed; retried later')
      await table().where({ id, lease_owner: this.owner, state: 'running' }).update({
        attempts,
        last_error: reason.slice(0, 1000),
        lease_owner: null,
        lease_until: this.options.db.raw(`clock_timestamp() + ? * interval '1 millisecond'`, [waitMs])
      })
      return
    }
    this.options.logger?.error({ err: reason, iteration: id, attempts }, 'iteration step failed too often; the job fails')
    await this.options.db.transaction(async (trx) => {
      // the hook first: it locks what the job feeds before the job's row, the order its other writers use
      await definition.failed?.(trx, { id, cursor: job.cursor, reason })
      await trx.withSchema(this.options.schema).table('iterations').where({ id, lease_owner: this.owner, state: 'running' }).update({
        state: 'failed',
        attempts,
        last_error: reason.slice(0, 1000),
        lease_owner: null,
        lease_until: null,
        updated_at: trx.raw('clock_timestamp()')
      })
    })
  }
}
