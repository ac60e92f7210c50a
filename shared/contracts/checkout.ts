import { Type, type Static } from '@feathersjs/typebox'
import { orderLineSchema } from './order.ts'

/**
 * The checkout's events (contract.md "Checkout"): orders runs the process
 * manager (order.paid, order.cancelled, order.fulfilled), payments charges
 * cards (payment.*), fulfilment issues each seller's delivery and invoice
 * (delivery.*, invoice.issued), subscriptions renews sellers' plans
 * (subscription.*). Each is written in the transaction of the step that
 * decides it, so it is published exactly when that step commits.
 */
export const ORDER_PAID = 'order.paid'
export const ORDER_CANCELLED = 'order.cancelled'
export const ORDER_FULFILLED = 'order.fulfilled'
export const PAYMENT_CAPTURED = 'payment.captured'
export const PAYMENT_FAILED = 'payment.failed'
export const PAYMENT_REFUNDED = 'payment.refunded'
export const DELIVERY_SCHEDULED = 'delivery.scheduled'
export const DELIVERY_SHIPPED = 'delivery.shipped'
export const INVOICE_ISSUED = 'invoice.issued'
export const SUBSCRIPTION_CREATED = 'subscription.created'
export const SUBSCRIPTION_RENEWED = 'subscription.renewed'
export const SUBSCRIPTION_PAST_DUE = 'subscription.past_due'
export const SUBSCRIPTION_CANCELLED = 'subscription.cancelled'

const id = Type.String({ minLength: 1 })
const at = Type.String({ format: 'date-time' })
const amount = Type.Integer({ minimum: 0, description: 'minor units' })
const currency = Type.String({ minLength: 3, maxLength: 3 })

/** Where an order is delivered; an order without one is a pickup (`null`). */
export const shipToSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, one the platform has enabled' })
  },
  { $id: 'ShipTo', additionalProperties: false }
)
export type ShipTo = Static<typeof shipToSchema>

/** One seller's part of a paid order: what their delivery carries and their invoice bills. */
export const sellerShareSchema = Type.Object(
  { sellerId: id, items: Type.Array(orderLineSchema, { minItems: 1 }), total: amount },
  { $id: 'SellerShare', additionalProperties: false }
)
export type SellerShare = Static<typeof sellerShareSchema>

/** The order's payment was captured while it was still open: its stock is committed, each seller ships and bills their share. */
export const orderPaidSchema = Type.Object(
  {
    orderId: id,
    buyerId: id,
    paymentId: id,
    total: amount,
    currency,
    shipTo: Type.Union([shipToSchema, Type.Null()]),
    sellers: Type.Array(sellerShareSchema, { minItems: 1 }),
    paidAt: at
  },
  { $id: 'OrderPaid', additionalProperties: false }
)
export type OrderPaid = Static<typeof orderPaidSchema>

/** The order will not be paid (its payment timed out, or its buyer cancelled it): its reservation is released. */
export const orderCancelledSchema = Type.Object(
  {
    orderId: id,
    buyerId: id,
    reason: Type.Union([Type.Literal('payment_timeout'), Type.Literal('buyer')]),
    items: Type.Array(orderLineSchema, { minItems: 1 }),
    total: amount,
    currency,
    cancelledAt: at
  },
  { $id: 'OrderCancelled', additionalProperties: false }
)
export type OrderCancelled = Static<typeof orderCancelledSchema>

/** Every seller's delivery of the order has shipped. */
export const orderFulfilledSchema = Type.Object({ orderId: id, buyerId: id, fulfilledAt: at }, { $id: 'OrderFulfilled', additionalProperties: false })
export type OrderFulfilled = Static<typeof orderFulfilledSchema>

const paymentParties = { paymentId: id, orderId: id, buyerId: id, amount, currency }

/** The card provider captured the payment (once per payment: its idempotency key is the payment's id). */
export const paymentCapturedSchema = Type.Object(
  { ...paymentParties, chargeId: id, capturedAt: at },
  { $id: 'PaymentCaptured', additionalProperties: false }
)
export type PaymentCaptured = Static<typeof paymentCapturedSchema>

/** The payment will not be captured; the order stays open for another payment until its timeout. */
export const paymentFailedSchema = Type.Object(
  { ...paymentParties, reason: Type.String({ minLength: 1 }), failedAt: at },
  { $id: 'PaymentFailed', additionalProperties: false }
)
export type PaymentFailed = Static<typeof paymentFailedSchema>

/** A capture for an order that was cancelled (or already paid by another payment) was given back. */
export const paymentRefundedSchema = Type.Object(
  { ...paymentParties, chargeId: id, refundId: id, refundedAt: at },
  { $id: 'PaymentRefunded', additionalProperties: false }
)
export type PaymentRefunded = Static<typeof paymentRefundedSchema>

const deliveryParties = { deliveryId: id, orderId: id, sellerId: id, buyerId: id }

export const deliveryScheduledSchema = Type.Object(
  { ...deliveryParties, shipTo: Type.Union([shipToSchema, Type.Null()]), scheduledAt: at },
  { $id: 'DeliveryScheduled', additionalProperties: false }
)
export type DeliveryScheduled = Static<typeof deliveryScheduledSchema>

export const deliveryShippedSchema = Type.Object({ ...deliveryParties, shippedAt: at }, { $id: 'DeliveryShipped', additionalProperties: false })
export type DeliveryShipped = Static<typeof deliveryShippedSchema>

/** One seller's invoice for their share of a paid order; `number` counts 1, 2, 3, ... per seller with no gap. */
export const invoiceIssuedSchema = Type.Object(
  {
    invoiceId: id,
    orderId: id,
    sellerId: id,
    buyerId: id,
    number: Type.Integer({ minimum: 1 }),
    lines: Type.Array(orderLineSchema, { minItems: 1 }),
    total: amount,
    currency,
    issuedAt: at
  },
  { $id: 'InvoiceIssued', additionalProperties: false }
)
export type InvoiceIssued = Static<typeof invoiceIssuedSchema>

export const planSchema = Type.Union([Type.Literal('basic'), Type.Literal('pro')])
export type Plan = Static<typeof planSchema>
export const subscriptionStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('past_due'), Type.Literal('cancelled')])
export type SubscriptionStatus = Static<typeof subscriptionStatusSchema>

/** A seller's plan changed state; `period` counts the periods paid (1 after the first charge). */
export const subscriptionEventSchema = Type.Object(
  {
    subscriptionId: id,
    sellerId: id,
    plan: planSchema,
    status: subscriptionStatusSchema,
    period: Type.Integer({ minimum: 0 }),
    currentPeriodEnd: at,
    reason: Type.Optional(Type.String()),
    at
  },
  { $id: 'SubscriptionEvent', additionalProperties: false }
)
export type SubscriptionEvent = Static<typeof subscriptionEventSchema>
