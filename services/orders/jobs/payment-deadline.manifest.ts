import { ORDER_CANCELLED } from '../../../shared/contracts/checkout.ts'
import type { PublisherManifest } from '../../../shared/manifest/publisher.ts'

/** What the payment-deadline job emits (scripts/docs lists it among order.cancelled's producers). */
export const paymentDeadlineManifest: PublisherManifest = {
  producer: 'orders',
  file: 'services/orders/jobs/payment-deadline.ts',
  via: 'writeOutbox() in its delayed job `order-payment-deadline`',
  emits: [ORDER_CANCELLED]
}
