import type { EventPayload, RoutingKey } from './index.ts'
import { CLAIM_ANSWERED, CLAIM_CLOSED, CLAIM_ESCALATED, CLAIM_OPENED } from './order.ts'
import { SUBSCRIPTION_CANCELLED, SUBSCRIPTION_CREATED, SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_RENEWED } from './checkout.ts'

/**
 * The key whose events must be handled in order, per routing key: every
 * event of one claim (opened, answered, escalated, closed) goes to the same
 * partition and is handled after the one before it. A routing key without an
 * entry has no key: its events may be handled in any order.
 */
export const partitionKeys: { [K in RoutingKey]?: (payload: EventPayload<K>) => string } = {
  [CLAIM_OPENED]: (claim) => claim.claimId,
  [CLAIM_ANSWERED]: (claim) => claim.claimId,
  [CLAIM_ESCALATED]: (claim) => claim.claimId,
  [CLAIM_CLOSED]: (claim) => claim.claimId,
  // a seller's plan events, in the order they happened to that seller
  [SUBSCRIPTION_CREATED]: (plan) => plan.sellerId,
  [SUBSCRIPTION_RENEWED]: (plan) => plan.sellerId,
  [SUBSCRIPTION_PAST_DUE]: (plan) => plan.sellerId,
  [SUBSCRIPTION_CANCELLED]: (plan) => plan.sellerId
}

/** The partition key of an event, or undefined when its routing key has none (or the payload lacks it). */
export function partitionKeyOf(routingKey: string, payload: unknown): string | undefined {
  const keyOf = (partitionKeys as Record<string, ((payload: unknown) => string) | undefined>)[routingKey]
  if (!keyOf || payload === null || typeof payload !== 'object') return undefined
  const key = keyOf(payload)
  return typeof key === 'string' && key !== '' ? key : undefined
}
