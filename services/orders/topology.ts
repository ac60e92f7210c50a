import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { DELIVERY_SHIPPED, ORDER_FULFILLED, ORDER_PAID, PAYMENT_CAPTURED, PAYMENT_FAILED } from '../../shared/contracts/checkout.ts'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'

/** `<ns>.orders.product-events`: every product.* event, to keep the product projection current. */
export const productEvents: ConsumerDeclaration = {
  service: 'orders',
  purpose: 'product-events',
  bindings: ['product.*'],
  // Out-of-order delivery is harmless (the projection keeps the highest version), so retries need not block.
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }
}

/**
 * `<ns>.orders.checkout-events`: the checkout's process manager. Captures and failures from payments, shipments
 * from fulfilment; each handled in one transaction of inbox, order state, step log and outbox.
 */
export const checkoutEvents: ConsumerManifest = {
  service: 'orders',
  purpose: 'checkout-events',
  bindings: [PAYMENT_CAPTURED, PAYMENT_FAILED, DELIVERY_SHIPPED],
  // a database that is away for a while must not lose a capture: back off, then the dead-letter queue
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] },
  emits: [ORDER_PAID, ORDER_FULFILLED]
}

export const consumers: ConsumerDeclaration[] = [productEvents, checkoutEvents]
