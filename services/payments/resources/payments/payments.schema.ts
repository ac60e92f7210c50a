import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { timestampField } from '../../../../shared/feathers/timestamps.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'

/** `pending` -> `captured` (-> `refunded` when its order was cancelled or paid otherwise) or `failed` with a reason. */
export const paymentStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('captured'), Type.Literal('failed'), Type.Literal('refunded')])

/** A payment as its buyer sees it (contract.md "Checkout"). */
export const paymentSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    status: paymentStatusSchema,
    /** the order's total, in minor units */
    amount: Type.Integer({ minimum: 0 }),
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    /** why a failed payment failed: `declined`, `invalid_card`, `provider_unavailable`, `order_closed`, ... */
    reason: Type.Optional(Type.String()),
    createdAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Payment', additionalProperties: false }
)
export type Payment = Static<typeof paymentSchema>

export const paymentResolver = resolve<Payment, HookContext>({
  amount: async (value) => Number(value), // bigint column: PostgreSQL sends it as text
  createdAt: timestampField
})

/** What leaves the service: the contract's fields only (never the card token, the keys or the provider's ids). */
export const paymentExternalResolver = resolve<Record<string, unknown>, HookContext>({
  reason: async (value) => (value === null ? undefined : value),
  buyerId: async () => undefined,
  token: async () => undefined,
  idempotencyKey: async () => undefined,
  chargeId: async () => undefined,
  refundId: async () => undefined,
  refundRequestedAt: async () => undefined,
  settledAt: async () => undefined
})

/** `POST /payments`: the order and the card token (the provider's test tokens: tok_ok, tok_declined, tok_flaky, tok_slow). */
export const paymentDataSchema = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    card: Type.Object(
      { token: Type.String({ pattern: '^tok_[a-z0-9_]{1,40}$', description: 'a card token from the card provider, e.g. tok_ok' }) },
      { additionalProperties: false }
    )
  },
  { $id: 'PaymentData', additionalProperties: false }
)
export type PaymentData = Static<typeof paymentDataSchema>
export const paymentDataValidator = getValidator(paymentDataSchema, dataValidator)

export const paymentQueryProperties = Type.Pick(paymentSchema, ['orderId', 'status', 'createdAt'])
export const paymentQuerySchema = querySyntax(paymentQueryProperties)
export type PaymentQuery = Static<typeof paymentQuerySchema>
export const paymentQueryValidator = getValidator(paymentQuerySchema, queryValidator)
