import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/**
 * `<ns>.catalog.order-events`: order.created (one per seller, with that
 * seller's lines), to count what was ordered of each product, so the catalog
 * shows what a buyer can still buy (`available`). Increments commute, so
 * out-of-order delivery is harmless and retries need not block.
 */
export const orderEvents: ConsumerDeclaration = {
  service: 'catalog',
  purpose: 'order-events',
  bindings: ['order.created'],
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }
}

/** The catalog is the source of product.* events (through its outbox); it consumes only orders' counts. */
export const consumers: ConsumerDeclaration[] = [orderEvents]
