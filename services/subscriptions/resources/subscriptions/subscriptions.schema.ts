import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import { planSchema, subscriptionStatusSchema } from '../../../../shared/contracts/checkout.ts'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { timestampField } from '../../../../shared/feathers/timestamps.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'
import type { SubscriptionRow } from '../../subscription-row.ts'

const timestamp = Type.String({ format: 'date-time' })

/**
 * A seller's plan as the API shows it: `active` from its creation (the first period is charged at once,
 * off the request), `past_due` when a period's charge was declined after every retry, `cancelled` at the
 * end of the period in which its seller cancelled it. `period` counts the periods paid.
 */
export const subscriptionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sellerId: Type.String(),
    plan: planSchema,
    status: subscriptionStatusSchema,
    period: Type.Integer({ minimum: 0 }),
    amount: Type.Integer({ minimum: 0, description: 'per period, minor units' }),
    currency: Type.String(),
    currentPeriodEnd: timestamp,
    cancelAtPeriodEnd: Type.Boolean(),
    /** why it is past due */
    reason: Type.Union([Type.String(), Type.Null()]),
    createdAt: timestamp,
    cancelledAt: Type.Union([timestamp, Type.Null()])
  },
  { $id: 'Subscription', additionalProperties: false }
)
export type Subscription = Static<typeof subscriptionSchema>

export const subscriptionResolver = resolve<SubscriptionRow, HookContext>({
  currentPeriodEnd: timestampField,
  createdAt: timestampField,
  cancelledAt: timestampField
})

/** The card token and the stored period length are the service's, never shown. */
export const subscriptionExternalResolver = resolve<SubscriptionRow, HookContext>({
  cardToken: async () => undefined,
  periodMs: async () => undefined
})

/** `POST /subscriptions`: a plan and the card that pays it (a provider token such as `tok_ok`). */
export const subscriptionDataSchema = Type.Object(
  {
    plan: planSchema,
    card: Type.Object({ token: Type.String({ pattern: '^tok_[a-z0-9_]{1,40}$' }) }, { additionalProperties: false })
  },
  { $id: 'SubscriptionData', additionalProperties: false }
)
export type SubscriptionData = Static<typeof subscriptionDataSchema>
export const subscriptionDataValidator = getValidator(subscriptionDataSchema, dataValidator)

export const subscriptionQuerySchema = querySyntax(Type.Pick(subscriptionSchema, ['sellerId', 'status', 'plan', 'createdAt']))
export type SubscriptionQuery = Static<typeof subscriptionQuerySchema>
export const subscriptionQueryValidator = getValidator(subscriptionQuerySchema, queryValidator)
