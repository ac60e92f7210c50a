import type { Knex } from 'knex'

/**
 * What the checkout's process manager did with an order, and why: one row per step, written in the step's own
 * transaction, so the log never claims a step that did not commit. `bazaar saga show <orderId>` reads it.
 */
export type CheckoutStep =
  | 'placed'
  | 'payment-captured'
  | 'payment-failed'
  | 'paid'
  | 'capture-after-close'
  | 'cancelled'
  | 'delivery-shipped'
  | 'fulfilled'

export async function recordStep(trx: Knex.Transaction, schema: string, orderId: string, step: CheckoutStep, detail: Record<string, unknown> = {}): Promise<void> {
  await trx.withSchema(schema).table('checkout_steps').insert({ orderId, step, detail: JSON.stringify(detail) })
}
