import type { Subscription, SubscriptionData } from './subscriptions.schema.ts'

export type { Subscription, SubscriptionData }

/** Sellers subscribe to a plan, read theirs and cancel it at the period's end (DELETE). */
export const subscriptionPath = 'subscriptions'
export const subscriptionMethods = ['find', 'get', 'create', 'remove'] as const
