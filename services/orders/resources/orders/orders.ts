import { BadRequest, Conflict, Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { ORDER_CREATED, ORDER_PLACED, type OrderLine } from '../../../../shared/contracts/order.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { OrderService, getOptions, type OrderParams } from './orders.class.ts'
import {
  orderDataResolver,
  orderDataValidator,
  orderExternalResolver,
  orderQueryValidator,
  orderResolver,
  orderSchema,
  type OrderData,
  type OrderRow
} from './orders.schema.ts'
import { orderPath } from './orders.shared.ts'
import { orderManifest } from './orders.manifest.ts'

/**
 * `/orders`: buyers place orders and read their own; sellers read the orders
 * holding their items, seeing only their lines. Prices, titles, sellers and
 * stock come from the product projection; a placed order is one
 * order.placed (the whole order, for its buyer) and one order.created per
 * seller, each with that seller's lines.
 *
 * What a query acts on is what the caller is shown: a seller's list is read
 * from `seller_orders` (their lines, their subtotal as `total`), so filters
 * and sorts on `total` are on the seller's own subtotal and never reveal what
 * the buyer spent with other sellers. `$select` never reaches the hooks that
 * decide who reads what (see publicQuery).
 */
export function orders(app: ServiceApp): void {
  const service = new OrderService(getOptions(app))
  app.use(orderPath, service, serviceOptions(orderManifest))
  app.service(orderPath).hooks({
    around: {
      all: [authenticateUser(), publicQuery(orderSchema), schemaHooks.resolveExternal(orderExternalResolver), schemaHooks.resolveResult(orderResolver)],
      create: [transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(orderQueryValidator)],
      find: [scopeToCaller],
      get: [uuidId()],
      create: [
        requireManifestRole(orderManifest),
        schemaHooks.validateData(orderDataValidator),
        reserveStock,
        schemaHooks.resolveData(orderDataResolver)
      ]
    },
    after: {
      get: [refuseOthers],
      create: [recordSellerShares, emitOrderEvents]
    }
  })
}

type Projected = { productId: string; sellerId: string; title: string; price: number; currency: string; stock: number; sold: number }

/**
 * Prices the order from the projection and takes the stock, under row locks
 * (in product order, so concurrent orders never deadlock): two orders cannot
 * sell more than the projection holds. Refuses, naming the items: unknown
 * products, products listed twice, several currencies, too little stock.
 */
async function reserveStock(context: HookContext) {
  const { items } = context.data as OrderData
  const trx = context.params.transaction!.trx
  const products = () => trx.withSchema(context.app.get('schema')).table('products')
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
    const available = Math.max(0, byId.get(item.productId)!.stock - byId.get(item.productId)!.sold)
    return item.quantity > available ? [problem(index, item.productId, 'not enough stock', { requested: item.quantity, available })] : []
  })
  if (short.length) throw new Conflict(`Not enough stock for ${short.map((s) => s.productId).join(', ')}`, { items: short })

  for (const item of items) await products().where({ productId: item.productId }).increment('sold', item.quantity)
  const lines: OrderLine[] = items.map((item) => {
    const product = byId.get(item.productId)!
    return { productId: product.productId, sellerId: product.sellerId, title: product.title, unitPrice: product.price, quantity: item.quantity }
  })
  ;(context.params as OrderParams).priced = { lines, currency: currencies[0]! }
}

const linesBySeller = (order: OrderRow) => {
  const bySeller = new Map<string, OrderLine[]>()
  for (const line of order.items) bySeller.set(line.sellerId, [...(bySeller.get(line.sellerId) ?? []), line])
  return bySeller
}
const subtotal = (lines: OrderLine[]) => lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0)
const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value))

/** Each seller's share of the new order, in its transaction: what sellers' lists are read from. */
async function recordSellerShares(context: HookContext) {
  const order = context.result as OrderRow
  const rows = [...linesBySeller(order)].map(([sellerId, items]) => ({
    id: order.id,
    sellerId,
    buyerId: order.buyerId,
    status: order.status,
    items: JSON.stringify(items),
    total: subtotal(items),
    currency: order.currency,
    createdAt: order.createdAt
  }))
  await context.params.transaction!.trx.withSchema(context.app.get('schema')).table('seller_orders').insert(rows)
}

/**
 * In the order's transaction: order.placed once with the whole order (for
 * its buyer), and order.created once per seller with that seller's lines
 * and subtotal (for the seller and their appliances).
 */
async function emitOrderEvents(context: HookContext) {
  const order = context.result as OrderRow
  const createdAt = isoOf(order.createdAt)
  await emit(context, ORDER_PLACED, {
    orderId: order.id,
    buyerId: order.buyerId,
    items: order.items,
    total: Number(order.total),
    currency: order.currency,
    createdAt
  })
  for (const [sellerId, items] of linesBySeller(order)) {
    await emit(context, ORDER_CREATED, {
      orderId: order.id,
      buyerId: order.buyerId,
      sellerId,
      items,
      total: subtotal(items),
      currency: order.currency,
      createdAt
    })
  }
}

/**
 * Buyers list their own orders, admins all; sellers list their shares of
 * orders (`seller_orders`), so every filter and sort acts on what they see.
 */
async function scopeToCaller(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller || caller.role === 'admin') return
  // newest first by default; the id breaks ties so pages never overlap
  const query = { $sort: { createdAt: -1, id: 1 }, ...context.params.query }
  if (caller.role === 'buyer') {
    context.params.query = { ...query, buyerId: caller.id }
    return
  }
  context.params = { ...context.params, query: { ...query, sellerId: caller.id }, adapter: { name: 'seller_orders' } } as OrderParams
}

/** An order is read by its buyer, the sellers in it, or an admin. */
async function refuseOthers(context: HookContext) {
  const caller = context.params.caller
  const order = context.result as OrderRow
  if (!context.params.provider || !caller || caller.role === 'admin') return
  if (caller.role === 'buyer' && order.buyerId === caller.id) return
  if (caller.role === 'seller' && order.sellerIds?.includes(caller.id)) return
  throw new Forbidden('This order is not yours to read')
}
