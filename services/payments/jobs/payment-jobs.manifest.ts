import { PAYMENT_CAPTURED, PAYMENT_FAILED, PAYMENT_REFUNDED } from '../../../shared/contracts/checkout.ts'
import type { PublisherManifest } from '../../../shared/manifest/publisher.ts'

/** What the charge job emits (scripts/docs lists it among payment.captured's and payment.failed's producers). */
export const chargeJobManifest: PublisherManifest = {
  producer: 'payments',
  file: 'services/payments/jobs/charge.ts',
  via: 'writeOutbox() in its job `charge` (one per payment)',
  emits: [PAYMENT_CAPTURED, PAYMENT_FAILED]
}

/** What the refund job emits. */
export const refundJobManifest: PublisherManifest = {
  producer: 'payments',
  file: 'services/payments/jobs/refund.ts',
  via: 'writeOutbox() in its job `refund` (one per unwanted capture)',
  emits: [PAYMENT_REFUNDED]
}
