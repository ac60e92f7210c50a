import type { EventPayload, RoutingKey } from './index.ts'
import { CLAIM_ANSWERED, CLAIM_CLOSED, CLAIM_ESCALATED, CLAIM_OPENED } from './order.ts'

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
  [CLAIM_CLOSED]: (claim) => claim.claimId
}

/** The partition key of an event, or undefined when its routing key has none (or the payload lacks it). */
export function partitionKeyOf(routingKey: string, payload: unknown): string | undefined {
  const keyOf = (partitionKeys as Record<string, ((payload: unknown) => string) | undefined>)[routingKey]
  if (!keyOf || payload === null || typeof payload !== 'object') return undefined
  const key = keyOf(payload)
  return typeof key === 'string' && key !== '' ? key : undefined
}
