import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'
import { orderCreatedSchema, type OrderLine } from '../../../../shared/contracts/order.ts'
import { shipToSchema } from '../../../../shared/contracts/checkout.ts'
import { timestampField } from '../../../../shared/feathers/timestamps.ts'
import { subtotal } from './pricing.ts'

export { shipToSchema, type ShipTo } from '../../../../shared/contracts/checkout.ts'

/**
 * An order as its buyer sees it: the order.created contract's fields, with its
 * own id and status (a seller sees only their own lines and their subtotal).
 */
export const orderSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union([Type.Literal('created'), Type.Literal('paid'), Type.Literal('fulfilled'), Type.Literal('cancelled')], {
      description: 'created (stock reserved) -> paid -> fulfilled when every delivery shipped, or cancelled'
    }),
    ...Type.Pick(orderCreatedSchema, ['buyerId', 'items', 'total', 'currency', 'createdAt']).properties,
    shipTo: Type.Union([shipToSchema, Type.Null()]),
    paidAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    fulfilledAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    cancelledAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    cancelReason: Type.Optional(Type.Union([Type.Literal('payment_timeout'), Type.Literal('buyer'), Type.Null()]))
  },
  { $id: 'Order', additionalProperties: false }
)
export type Order = Static<typeof orderSchema>

/**
 * As stored: an order with the sellers of its lines (`orders`), or one
 * seller's share of it (`seller_orders`: that seller's lines, their subtotal
 * as `total`, and `sellerId`).
 */
export type OrderRow = Order & { sellerIds?: string[]; sellerId?: string; paymentId?: string | null }

export const orderResolver = resolve<OrderRow, HookContext>({
  total: async (value) => Number(value), // bigint column: PostgreSQL sends it as text
  createdAt: timestampField,
  paidAt: timestampField,
  fulfilledAt: timestampField,
  cancelledAt: timestampField
})

const sellerView = (context: HookContext) => context.params.caller?.role === 'seller'
const visibleLines = (order: OrderRow, context: HookContext): OrderLine[] =>
  sellerView(context) ? order.items.filter((line) => line.sellerId === context.params.caller!.id) : order.items

/** A seller's view holds only their lines, totalled; who sells in an order is internal. */
export const orderExternalResolver = resolve<OrderRow, HookContext>({
  items: async (_value, order, context) => visibleLines(order, context),
  total: async (value, order, context) =>
    sellerView(context) ? subtotal(visibleLines(order, context)) : value,
  sellerIds: async () => undefined,
  sellerId: async () => undefined,
  paymentId: async () => undefined,
  // a step the order has not reached is absent, not null: a new order answers what contract.md lists
  paidAt: async (value) => value ?? undefined,
  fulfilledAt: async (value) => value ?? undefined,
  cancelledAt: async (value) => value ?? undefined,
  cancelReason: async (value) => value ?? undefined
})

/** Placing an order: products and quantities; prices, titles and sellers come from the projection (see OrderService). */
export const MAX_QUANTITY = 10_000
export const orderItemSchema = Type.Object(
  {
    productId: Type.String({ format: 'uuid' }),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY })
  },
  { $id: 'OrderItem', additionalProperties: false }
)
export const orderDataSchema = Type.Object(
  { items: Type.Array(orderItemSchema, { minItems: 1, maxItems: 100 }), shipTo: Type.Optional(shipToSchema) },
  { $id: 'OrderData', additionalProperties: false }
)
export type OrderData = Static<typeof orderDataSchema>
export const orderDataValidator = getValidator(orderDataSchema, dataValidator)

/** A buyer's change to their order: cancelling it while it waits for its payment. */
export const orderPatchSchema = Type.Object({ status: Type.Literal('cancelled') }, { $id: 'OrderPatch', additionalProperties: false })
export type OrderPatch = Static<typeof orderPatchSchema>
export const orderPatchValidator = getValidator(orderPatchSchema, dataValidator)

export const orderQueryProperties = Type.Pick(orderSchema, ['status', 'createdAt', 'total', 'currency'])
export const orderQuerySchema = querySyntax(orderQueryProperties)
export type OrderQuery = Static<typeof orderQuerySchema>
export const orderQueryValidator = getValidator(orderQuerySchema, queryValidator)
