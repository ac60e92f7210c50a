import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.orders.product-events`: every product.* event, to keep the product projection current. */
export const productEvents: ConsumerDeclaration = {
  service: 'orders',
  purpose: 'product-events',
  bindings: ['product.*'],
  // Out-of-order delivery is harmless (the projection keeps the highest version), so retries need not block.
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }
}

export const consumers: ConsumerDeclaration[] = [productEvents]
