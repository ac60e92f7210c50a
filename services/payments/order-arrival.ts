import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { readOrder, type OrderRow } from './payment-rows.ts'

/**
 * The order from the projection, waiting at most `waitMs` for it to arrive (its order.placed is usually a few
 * milliseconds behind the buyer's 201): a short poll, 10 ms growing to 200 ms, outside any transaction so the
 * request holds no connection while it waits. Undefined when it did not arrive in time (the caller answers 404).
 */
export async function awaitOrder(db: Knex, schema: string, orderId: string, waitMs: number): Promise<OrderRow | undefined> {
  const deadline = Date.now() + waitMs
  let interval = 10
  for (;;) {
    const order = await readOrder(db, schema, orderId)
    if (order) return order
    const left = deadline - Date.now()
    if (left <= 0) return undefined
    await sleep(Math.min(interval, left))
    interval = Math.min(interval * 2, 200)
  }
}
