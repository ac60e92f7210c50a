import { BadRequest, Conflict } from '@feathersjs/errors'
import type { Knex } from 'knex'
import type { OrderLine } from '../../../../shared/contracts/order.ts'
import type { SellerShare } from '../../../../shared/contracts/checkout.ts'

type Projected = { productId: string; sellerId: string; title: string; price: number; currency: string; stock: number; sold: number; reserved: number }

export interface PricedOrder {
  lines: OrderLine[]
  currency: string
  total: number
}

/** What an order's lines cost, in minor units. */
export const subtotal = (lines: OrderLine[]): number => lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0)

/** Each seller's lines of an order, in the order the lines came, with their subtotal: one order.created, one seller_orders row, one delivery and invoice each. */
export function sellerShares(lines: OrderLine[]): SellerShare[] {
  const bySeller = new Map<string, OrderLine[]>()
  for (const line of lines) bySeller.set(line.sellerId, [...(bySeller.get(line.sellerId) ?? []), line])
  return [...bySeller].map(([sellerId, items]) => ({ sellerId, items, total: subtotal(items) }))
}

/**
 * Prices the items from the product projection and reserves their stock (until
 * the order is paid or cancelled, see checkout/stock.ts), under
 * row locks of `trx` (in product order, so concurrent orders never deadlock):
 * two orders cannot sell more than the projection holds. Refuses, naming the
 * items: unknown products, products listed twice, several currencies, too
 * little stock.
 */
export async function priceAndReserve(trx: Knex.Transaction, schema: string, items: Array<{ productId: string; quantity: number }>): Promise<PricedOrder> {
  const products = () => trx.withSchema(schema).table('products')
  const problem = (index: number, productId: string, message: string, extra: object = {}) => ({ index, productId, message, ...extra })

  const seen = new Set<string>()
  const duplicates = items.flatMap((item, index) => (seen.has(item.productId) ? [problem(index, item.productId, 'listed more than once')] : (seen.add(item.productId), [])))
  if (duplicates.length) throw new BadRequest('Each product may appear once in an order', { items: duplicates })

  const rows: Projected[] = await products().whereIn('productId', [...seen].sort()).orderBy('productId').forUpdate()
  const byId = new Map(rows.map((row) => [row.productId, row]))
  const unknown = items.flatMap((item, index) => (byId.has(item.productId) ? [] : [problem(index, item.productId, 'no such product')]))
  if (unknown.length) throw new BadRequest(`Unknown product: ${unknown.map((u) => u.productId).join(', ')}`, { items: unknown })

  const currencies = [...new Set(rows.map((row) => row.currency))]
  if (currencies.length > 1) {
    throw new BadRequest(`An order is paid in one currency; these items are in ${currencies.join(', ')}`, {
      items: items.map((item, index) => problem(index, item.productId, `priced in ${byId.get(item.productId)!.currency}`))
    })
  }

  const short = items.flatMap((item, index) => {
    const product = byId.get(item.productId)!
    const available = Math.max(0, product.stock - product.sold - product.reserved)
    return item.quantity > available ? [problem(index, item.productId, 'not enough stock', { requested: item.quantity, available })] : []
  })
  if (short.length) throw new Conflict(`Not enough stock for ${short.map((s) => s.productId).join(', ')}`, { items: short })

  for (const item of items) await products().where({ productId: item.productId }).increment('reserved', item.quantity)
  const lines: OrderLine[] = items.map((item) => {
    const product = byId.get(item.productId)!
    return { productId: product.productId, sellerId: product.sellerId, title: product.title, unitPrice: product.price, quantity: item.quantity }
  })
  return { lines, currency: currencies[0]!, total: subtotal(lines) }
}
