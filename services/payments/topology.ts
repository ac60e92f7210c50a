import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'
import { ORDER_CANCELLED, ORDER_PAID } from '../../shared/contracts/checkout.ts'
import { ORDER_PLACED } from '../../shared/contracts/order.ts'

/**
 * `<ns>.payments.order-events`: the orders payments charges for and whether they are still open. Order of
 * arrival does not matter (each event can create the projection row; cancelled is final), so retries need not block.
 * It emits nothing itself: a refund it decides on is a job (jobs/refund.ts), which emits payment.refunded.
 */
export const orderEvents: ConsumerManifest = {
  service: 'payments',
  purpose: 'order-events',
  bindings: [ORDER_PLACED, ORDER_PAID, ORDER_CANCELLED],
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }
}

export const consumers: ConsumerManifest[] = [orderEvents]
