import { CLAIM_ESCALATED } from '../../../shared/contracts/order.ts'
import type { PublisherManifest } from '../../../shared/manifest/publisher.ts'

/** What the claim-deadline job emits (scripts/docs lists it among claim.escalated's producers). */
export const claimDeadlineManifest: PublisherManifest = {
  producer: 'orders',
  file: 'services/orders/jobs/claim-deadline.ts',
  via: 'writeOutbox() in its delayed job `claim-deadline`',
  emits: [CLAIM_ESCALATED]
}
