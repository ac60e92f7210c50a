import type { Knex } from 'knex'

/**
 * The seller's next invoice number, taken in the invoice's own transaction: the seller's counter row is
 * created at 1 or raised by one, and stays locked until that transaction ends. A rollback gives the
 * number back with everything else (a sequence would not: its numbers leak on rollback), and a
 * concurrent invoice of the same seller waits for the commit and takes the number after it. So numbers
 * run 1, 2, 3, ... per seller with no gap and no repeat. Callers taking several sellers' numbers in one
 * transaction take them in sellerId order, so two such transactions never wait on each other in a cycle.
 */
export async function takeInvoiceNumber(trx: Knex.Transaction, schema: string, sellerId: string): Promise<number> {
  const [row] = await trx
    .withSchema(schema)
    .table('invoice_counters')
    .insert({ sellerId, issued: 1 })
    .onConflict('sellerId')
    .merge({ issued: trx.raw('invoice_counters.issued + 1') })
    .returning('issued')
  return Number(row.issued)
}
