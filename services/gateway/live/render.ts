import {
  MAINTENANCE_CANCELLED,
  MAINTENANCE_SCHEDULED,
  ORDER_CREATED,
  ORDER_PLACED,
  USER_UPDATED,
  type EventPayload
} from '../../../shared/contracts/index.ts'
import { importNotice, importSellerOf, isImportKey, type ImportKey } from './import-notices.ts'
import { isCheckoutNoticeKey, isClaimKey, type CheckoutNoticeKey, type ClaimKey, type Principal, type RecordedEvent } from '../history/audiences.ts'

/**
 * What one stream sees of an event: its SSE name and data, or nothing.
 * Appliances get `order` with the order.created payload; users get `notice`s
 * about themselves: a buyer one `order.placed` per order (the whole order), a
 * seller one `order.received` per order with their part, a buyer each step of
 * their claims (`claim.opened`, `claim.answered`, `claim.escalated`,
 * `claim.closed`), a buyer the steps of their orders' checkout (`order.paid`,
 * `order.cancelled`, `order.fulfilled`, `payment.failed`), a seller their imports' `import.progress` and
 * `import.completed`; everyone gets `maintenance` (and `maintenance-cancelled`).
 */
export function render(event: RecordedEvent, principal: Principal): { name: string; data: unknown } | undefined {
  if (isClaimKey(event.routingKey)) {
    const claim = event.payload as EventPayload<ClaimKey>
    return principal.kind === 'user' && principal.userId === claim.buyerId ? { name: 'notice', data: { kind: event.routingKey, ...claim } } : undefined
  }
  if (isCheckoutNoticeKey(event.routingKey)) {
    const step = event.payload as EventPayload<CheckoutNoticeKey>
    return principal.kind === 'user' && principal.userId === step.buyerId ? { name: 'notice', data: { kind: event.routingKey, ...step } } : undefined
  }
  if (isImportKey(event.routingKey)) {
    const progress = event.payload as EventPayload<ImportKey>
    return principal.kind === 'user' && principal.userId === importSellerOf(progress) ? importNotice(event.routingKey, progress) : undefined
  }
  switch (event.routingKey) {
    case MAINTENANCE_SCHEDULED:
      return { name: 'maintenance', data: event.payload }
    case MAINTENANCE_CANCELLED:
      return { name: 'maintenance-cancelled', data: event.payload }
    case ORDER_CREATED: {
      const order = event.payload as EventPayload<typeof ORDER_CREATED>
      if (principal.kind === 'appliance') return principal.sellerId === order.sellerId ? { name: 'order', data: order } : undefined
      if (principal.userId === order.sellerId) return { name: 'notice', data: { kind: 'order.received', ...order } }
      return undefined
    }
    case ORDER_PLACED: {
      const order = event.payload as EventPayload<typeof ORDER_PLACED>
      return principal.kind === 'user' && principal.userId === order.buyerId ? { name: 'notice', data: { kind: 'order.placed', ...order } } : undefined
    }
    case USER_UPDATED: {
      const update = event.payload as EventPayload<typeof USER_UPDATED>
      return principal.kind === 'user' && principal.userId === update.userId ? { name: 'notice', data: { kind: 'user.updated', ...update } } : undefined
    }
  }
  return undefined
}
