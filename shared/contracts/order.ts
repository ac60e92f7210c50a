import { Type, type Static } from '@feathersjs/typebox'

export const ORDER_CREATED = 'order.created'
export const ORDER_PLACED = 'order.placed'
export const CLAIM_OPENED = 'claim.opened'
export const CLAIM_ANSWERED = 'claim.answered'
export const CLAIM_ESCALATED = 'claim.escalated'
export const CLAIM_CLOSED = 'claim.closed'

export const orderLineSchema = Type.Object(
  {
    productId: Type.String({ minLength: 1 }),
    sellerId: Type.String({ minLength: 1 }),
    title: Type.String(),
    unitPrice: Type.Integer({ minimum: 0 }),
    quantity: Type.Integer({ minimum: 1 })
  },
  { $id: 'OrderLine', additionalProperties: false }
)
export type OrderLine = Static<typeof orderLineSchema>

/** Published once per seller in an order, with that seller's lines only. */
export const orderCreatedSchema = Type.Object(
  {
    orderId: Type.String({ minLength: 1 }),
    buyerId: Type.String({ minLength: 1 }),
    sellerId: Type.String({ minLength: 1 }),
    items: Type.Array(orderLineSchema, { minItems: 1 }),
    total: Type.Integer({ minimum: 0 }),
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    createdAt: Type.String({ format: 'date-time' })
  },
  { $id: 'OrderCreated', additionalProperties: false }
)
export type OrderCreated = Static<typeof orderCreatedSchema>

/**
 * Published once per order, in the same transaction as its order.created
 * events: the whole order as its buyer placed it (every seller's lines, the
 * order's total). The buyer's notice comes from this one.
 */
export const orderPlacedSchema = Type.Object(
  {
    orderId: Type.String({ minLength: 1 }),
    buyerId: Type.String({ minLength: 1 }),
    items: Type.Array(orderLineSchema, { minItems: 1 }),
    total: Type.Integer({ minimum: 0 }),
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    createdAt: Type.String({ format: 'date-time' })
  },
  { $id: 'OrderPlaced', additionalProperties: false }
)
export type OrderPlaced = Static<typeof orderPlacedSchema>

/** What every claim event carries: the claim, its order and the buyer who opened it. */
const claimParties = {
  claimId: Type.String({ minLength: 1 }),
  orderId: Type.String({ minLength: 1 }),
  buyerId: Type.String({ minLength: 1 })
}

export const claimOpenedSchema = Type.Object(
  {
    ...claimParties,
    reason: Type.String(),
    openedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'ClaimOpened', additionalProperties: false }
)
export type ClaimOpened = Static<typeof claimOpenedSchema>

/** A seller of the claimed order answered it. */
export const claimAnsweredSchema = Type.Object(
  {
    ...claimParties,
    sellerId: Type.String({ minLength: 1 }),
    response: Type.String(),
    answeredAt: Type.String({ format: 'date-time' })
  },
  { $id: 'ClaimAnswered', additionalProperties: false }
)
export type ClaimAnswered = Static<typeof claimAnsweredSchema>

/** No seller answered within CLAIM_RESPONSE_TIMEOUT: the admins take it over. */
export const claimEscalatedSchema = Type.Object(
  {
    ...claimParties,
    reason: Type.String(),
    openedAt: Type.String({ format: 'date-time' }),
    escalatedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'ClaimEscalated', additionalProperties: false }
)
export type ClaimEscalated = Static<typeof claimEscalatedSchema>

/** The buyer closed the claim. */
export const claimClosedSchema = Type.Object(
  {
    ...claimParties,
    closedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'ClaimClosed', additionalProperties: false }
)
export type ClaimClosed = Static<typeof claimClosedSchema>
