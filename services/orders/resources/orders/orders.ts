import { Forbidden, NotFound } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { ORDER_CREATED, ORDER_PLACED } from '../../../../shared/contracts/order.ts'
import { ORDER_CANCELLED } from '../../../../shared/contracts/checkout.ts'
import { recordStep } from '../../checkout/steps.ts'
import { schedulePaymentDeadline } from '../../jobs/payment-deadline.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { OrderService, getOptions, type OrderParams } from './orders.class.ts'
import { sellerShares } from './pricing.ts'
import {
  orderDataValidator,
  orderExternalResolver,
  orderPatchValidator,
  orderQueryValidator,
  orderResolver,
  orderSchema,
  type OrderData,
  type OrderRow
} from './orders.schema.ts'
import { orderPath } from './orders.shared.ts'
import { orderManifest } from './orders.manifest.ts'
import { enabledShipToCountry } from './ship-to.ts'

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
      create: [transactional()],
      patch: [transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(orderQueryValidator)],
      find: [scopeToCaller],
      get: [uuidId()],
      create: [
        requireManifestRole(orderManifest),
        schemaHooks.validateData(orderDataValidator), // the class prices it
        enabledShipToCountry
      ],
      patch: [requireManifestRole(orderManifest), uuidId(), schemaHooks.validateData(orderPatchValidator), buyersOwnOnly]
    },
    after: {
      get: [refuseOthers],
      create: [recordSellerShares, emitOrderEvents, startCheckout],
      patch: [emitCancellation]
    }
  })
}

/** Each seller's share of the new order, in its transaction: what sellers' lists are read from. */
async function recordSellerShares(context: HookContext) {
  const order = context.result as OrderRow
  const rows = sellerShares(order.items).map(({ sellerId, items, total }) => ({
    id: order.id,
    sellerId,
    buyerId: order.buyerId,
    status: order.status,
    items: JSON.stringify(items),
    total,
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
  const createdAt = isoTimestamp(order.createdAt)
  await emit(context, ORDER_PLACED, {
    orderId: order.id,
    buyerId: order.buyerId,
    items: order.items,
    total: Number(order.total),
    currency: order.currency,
    createdAt
  })
  for (const { sellerId, items, total } of sellerShares(order.items)) {
    await emit(context, ORDER_CREATED, {
      orderId: order.id,
      buyerId: order.buyerId,
      sellerId,
      items,
      total,
      currency: order.currency,
      createdAt
    })
  }
}

/**
 * The checkout starts with the order, in its transaction: the first step of its log and its payment deadline
 * (ORDER_PAYMENT_TIMEOUT), after which an unpaid order is cancelled (jobs/payment-deadline.ts).
 */
async function startCheckout(context: HookContext) {
  const order = context.result as OrderRow
  const trx = context.params.transaction!.trx
  await recordStep(trx, context.app.get('schema'), order.id, 'placed', { total: Number(order.total), currency: order.currency, sellers: order.sellerIds })
  await schedulePaymentDeadline(context.app, trx, order.id)
}

/** A buyer cancels only their own orders (an admin any): others are told it is not theirs. */
async function buyersOwnOnly(context: HookContext) {
  const caller = context.params.caller!
  const order = await context.app.get('db').withSchema(context.app.get('schema')).table('orders').where({ id: context.id }).first('buyerId')
  if (!order) throw new NotFound(`No record found for id '${context.id}'`)
  if (caller.role !== 'admin' && order.buyerId !== caller.id) throw new Forbidden('This order is not yours to cancel')
}

/** The cancellation's event, in its transaction: payments refunds a capture that raced with it, catalog releases the units. */
async function emitCancellation(context: HookContext) {
  const order = context.result as OrderRow & { cancelReason: 'buyer' | 'payment_timeout'; cancelledAt: Date | string }
  await emit(context, ORDER_CANCELLED, {
    orderId: order.id,
    buyerId: order.buyerId,
    reason: order.cancelReason,
    items: order.items,
    total: Number(order.total),
    currency: order.currency,
    cancelledAt: isoTimestamp(order.cancelledAt)
  })
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
