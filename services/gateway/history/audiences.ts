import {
  CLAIM_ANSWERED,
  CLAIM_CLOSED,
  CLAIM_ESCALATED,
  CLAIM_OPENED,
  MAINTENANCE_CANCELLED,
  MAINTENANCE_SCHEDULED,
  ORDER_CREATED,
  ORDER_PLACED,
  USER_UPDATED,
  IMPORT_COMPLETED,
  IMPORT_PROGRESS,
  ORDER_CANCELLED,
  ORDER_FULFILLED,
  ORDER_PAID,
  PAYMENT_FAILED,
  type EventPayload,
  type RoutingKey
} from '../../../shared/contracts/index.ts'
import { importRoutingKeys, importSellerOf, type ImportKey } from '../live/import-notices.ts'

/**
 * Who receives what. An audience is a string key: `all` (every stream),
 * `appliances:<sellerId>` (the warehouse appliances of one seller) and
 * `user:<userId>` (one user's own streams). An event is recorded with the
 * audiences it is for; a stream subscribes to its own few; history is
 * replayed by the same keys, so live and replayed delivery cannot disagree.
 */
export const pushedRoutingKeys = [
  ORDER_CREATED,
  ORDER_PLACED,
  MAINTENANCE_SCHEDULED,
  MAINTENANCE_CANCELLED,
  USER_UPDATED,
  CLAIM_OPENED,
  CLAIM_ANSWERED,
  CLAIM_ESCALATED,
  CLAIM_CLOSED,
  ...importRoutingKeys,
  ORDER_PAID,
  ORDER_CANCELLED,
  ORDER_FULFILLED,
  PAYMENT_FAILED
] as const satisfies readonly RoutingKey[]
export type PushedKey = (typeof pushedRoutingKeys)[number]

/** A claim's events: each is a notice to the claim's buyer, and they are recorded in their order (topology.ts). */
export const claimRoutingKeys = [CLAIM_OPENED, CLAIM_ANSWERED, CLAIM_ESCALATED, CLAIM_CLOSED] as const satisfies readonly PushedKey[]
export type ClaimKey = (typeof claimRoutingKeys)[number]
export const isClaimKey = (key: PushedKey): key is ClaimKey => (claimRoutingKeys as readonly PushedKey[]).includes(key)

/** The checkout's steps a buyer is told of (contract.md "Checkout": `notice` with the step as its kind). */
export const checkoutNoticeKeys = [ORDER_PAID, ORDER_CANCELLED, ORDER_FULFILLED, PAYMENT_FAILED] as const satisfies readonly PushedKey[]
export type CheckoutNoticeKey = (typeof checkoutNoticeKeys)[number]
export const isCheckoutNoticeKey = (key: PushedKey): key is CheckoutNoticeKey => (checkoutNoticeKeys as readonly PushedKey[]).includes(key)

export const everyone = 'all'
export const applianceAudience = (sellerId: string) => `appliances:${sellerId}`
export const userAudience = (userId: string) => `user:${userId}`

/** Who is on the other end of a stream. */
export type Principal =
  | { kind: 'user'; userId: string; role: 'buyer' | 'seller' | 'admin' }
  | { kind: 'appliance'; applianceId: string; sellerId: string }

export function audiencesOf(principal: Principal): string[] {
  return principal.kind === 'appliance'
    ? [everyone, applianceAudience(principal.sellerId)]
    : [everyone, userAudience(principal.userId)]
}

/** A recorded event, as stored in the history and handed to streams. */
export interface RecordedEvent {
  id: number
  routingKey: PushedKey
  payload: EventPayload<PushedKey>
  audiences: string[]
}

/** The audiences an event is for, and the order/seller it concerns (for receipts). */
export function addressOf<K extends PushedKey>(routingKey: K, payload: EventPayload<K>): {
  audiences: string[]
  sellerId?: string
  orderId?: string
} {
  switch (routingKey) {
    case ORDER_CREATED: {
      // one per seller, with that seller's part: for the seller and their appliances, not the buyer
      const order = payload as EventPayload<typeof ORDER_CREATED>
      return { audiences: [applianceAudience(order.sellerId), userAudience(order.sellerId)], sellerId: order.sellerId, orderId: order.orderId }
    }
    case ORDER_PLACED: {
      // one per order, the whole order: the buyer's notice (no sellerId: appliances' receipts are per order.created)
      const order = payload as EventPayload<typeof ORDER_PLACED>
      return { audiences: [userAudience(order.buyerId)], orderId: order.orderId }
    }
    case USER_UPDATED:
      return { audiences: [userAudience((payload as EventPayload<typeof USER_UPDATED>).userId)] }
    case CLAIM_OPENED:
    case CLAIM_ANSWERED:
    case CLAIM_ESCALATED:
    case CLAIM_CLOSED:
      return { audiences: [userAudience((payload as EventPayload<ClaimKey>).buyerId)] }
    case ORDER_PAID:
    case ORDER_CANCELLED:
    case ORDER_FULFILLED:
    case PAYMENT_FAILED: {
      const step = payload as EventPayload<CheckoutNoticeKey>
      return { audiences: [userAudience(step.buyerId)], orderId: step.orderId }
    }
    case IMPORT_PROGRESS:
    case IMPORT_COMPLETED:
      return { audiences: [userAudience(importSellerOf(payload as EventPayload<ImportKey>))] }
    default:
      return { audiences: [everyone] }
  }
}
