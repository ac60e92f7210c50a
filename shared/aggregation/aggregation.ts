import type { Knex } from 'knex'

/** What to do when an item reports failed units: go on and report them, or stop the batch there. */
export type FailurePolicy = 'continue' | 'stop'

export type AggregationState = 'open' | 'completed' | 'stopped' | 'expired' | 'cancelled' | 'failed'

export interface AggregationRow {
  id: string
  itemsTotal: number
  itemsDone: number
  total: number
  done: number
  failed: number
  policy: FailurePolicy
  state: AggregationState
  deadlineAt: Date
  completedAt: Date | null
}

/** The outcome of one item's commit: `completed` is true in exactly one transaction per batch. */
export interface ItemOutcome {
  row: AggregationRow
  /** this transaction closed the batch (all items in, the policy stopped it): emit the completion event with it */
  completed: boolean
  /** the rate limit allows a progress notice in this transaction */
  progressDue: boolean
}

/** Thrown by `record` when the batch is no longer open (cancelled, expired): roll the item's effect back. */
export class AggregationClosed extends Error {
  constructor(readonly id: string) {
    super(`aggregation ${id} is closed`)
  }
}

const columns = `id, items_total as "itemsTotal", items_done as "itemsDone", total, done, failed, policy, state,
  deadline_at as "deadlineAt", completed_at as "completedAt"`

/**
 * Aggregation (a chord, a flow's parent): a batch of N items processed by
 * competing consumers. Each item's consumer calls `record` in the transaction
 * of its effect and inbox row, so effect, dedup and count commit together;
 * the one transaction that brings the count to N (or that the failure policy
 * stops, or the deadline expires) sees `completed` and writes the completion
 * event. Nobody polls and nothing waits for ever: the deadline closes it.
 * Counter updates are one row per batch: call `record` last in the
 * transaction, so its row lock is held only until the commit.
 */
export class Aggregations {
  constructor(private readonly schema: string) {}

  async create(trx: Knex.Transaction, batch: { id: string; items: number; total: number; policy: FailurePolicy; deadlineMs: number }): Promise<AggregationRow> {
    const { rows } = await trx.raw(
      `insert into ??.aggregations (id, items_total, total, policy, deadline_at, state, completed_at)
       values (?, ?, ?, ?, clock_timestamp() + ? * interval '1 millisecond', ?, case when ? = 0 then clock_timestamp() end)
       returning ${columns}`,
      [this.schema, batch.id, batch.items, batch.total, batch.policy, batch.deadlineMs, batch.items === 0 ? 'completed' : 'open', batch.items]
    )
    return rows[0]
  }

  /**
   * One item is in: adds its counts, closes the batch when it is the last one
   * (or, policy `stop`, when it failed units), and says whether a progress
   * notice is due (at most one per `progressEveryMs`, decided under the row lock).
   */
  async record(trx: Knex.Transaction, id: string, counts: { done: number; failed: number }, progressEveryMs = 250): Promise<ItemOutcome> {
    const { rows } = await trx.raw(
      `update ??.aggregations set
         items_done = items_done + 1,
         done = done + ?,
         failed = failed + ?,
         state = case when items_done + 1 >= items_total then 'completed'
                      when policy = 'stop' and ? > 0 then 'stopped' else state end,
         completed_at = case when items_done + 1 >= items_total or (policy = 'stop' and ? > 0) then clock_timestamp() end,
         progress_at = case when progress_at is null or progress_at <= now() - ? * interval '1 millisecond' then now() else progress_at end
       where id = ? and state = 'open'
       returning ${columns}, progress_at = now() as "progressDue"`,
      [this.schema, counts.done, counts.failed, counts.failed, counts.failed, progressEveryMs, id]
    )
    const row = rows[0] as (AggregationRow & { progressDue: boolean }) | undefined
    if (!row) throw new AggregationClosed(id)
    const { progressDue, ...rest } = row
    return { row: rest, completed: rest.state !== 'open', progressDue: progressDue && rest.state === 'open' }
  }

  /**
   * Closes an open batch as `cancelled`, or as `expired` (its deadline passed)
   * or `failed` (what feeds it gave up): then the units not counted yet are
   * counted failed, so done + failed = total still holds. Undefined when it was closed already: nothing to emit then.
   */
  async close(trx: Knex.Transaction, id: string, state: 'cancelled' | 'expired' | 'failed'): Promise<AggregationRow | undefined> {
    const { rows } = await trx.raw(
      `update ??.aggregations set state = ?, completed_at = clock_timestamp(),
         failed = case when ? <> 'cancelled' then total - done else failed end
       where id = ? and state = 'open' returning ${columns}`,
      [this.schema, state, state, id]
    )
    return rows[0] as AggregationRow | undefined
  }

  async get(trx: Knex | Knex.Transaction, id: string): Promise<AggregationRow | undefined> {
    const row = await trx.withSchema(this.schema).table('aggregations').where({ id }).first(trx.raw(columns))
    return row as AggregationRow | undefined
  }
}
