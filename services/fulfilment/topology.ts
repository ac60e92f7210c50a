import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { DELIVERY_SCHEDULED, INVOICE_ISSUED, ORDER_PAID } from '../../shared/contracts/index.ts'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'

/**
 * `<ns>.fulfilment.order-events`: each paid order, to schedule every seller's delivery and issue their invoice.
 * Orders are independent of each other, so retries need not keep their order (delay queues). A share whose
 * counter row is busy waits on its lock rather than failing: a failure here is the database being away.
 */
export const orderEvents: ConsumerManifest = {
  service: 'fulfilment',
  purpose: 'order-events',
  bindings: [ORDER_PAID],
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] },
  emits: [DELIVERY_SCHEDULED, INVOICE_ISSUED]
}

export const consumers: ConsumerDeclaration[] = [orderEvents]
