import type { Knex } from 'knex'
import type { OrderLine } from '../../../shared/contracts/order.ts'

/** The lines in product order, so two transactions touching the same products never deadlock. */
const inProductOrder = (lines: OrderLine[]) => [...lines].sort((a, b) => a.productId.localeCompare(b.productId))

/** A paid order's reservation becomes units sold (the stock committed), in the transaction that marks it paid. */
export async function commitStock(trx: Knex.Transaction, schema: string, lines: OrderLine[]): Promise<void> {
  for (const line of inProductOrder(lines)) {
    await trx.withSchema(schema).table('products').where({ productId: line.productId })
      .update({ reserved: trx.raw('greatest(reserved - ?, 0)', [line.quantity]), sold: trx.raw('sold + ?', [line.quantity]) })
  }
}

/** A cancelled order's reservation is given back, in the transaction that cancels it. */
export async function releaseStock(trx: Knex.Transaction, schema: string, lines: OrderLine[]): Promise<void> {
  for (const line of inProductOrder(lines)) {
    await trx.withSchema(schema).table('products').where({ productId: line.productId })
      .update({ reserved: trx.raw('greatest(reserved - ?, 0)', [line.quantity]) })
  }
}
