import { SUBSCRIPTION_CANCELLED, SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_RENEWED } from '../../../shared/contracts/checkout.ts'
import type { PublisherManifest } from '../../../shared/manifest/publisher.ts'

/** What the renewal job emits (scripts/docs lists it among these events' producers). */
export const renewalManifest: PublisherManifest = {
  producer: 'subscriptions',
  file: 'services/subscriptions/renewals/renewal.ts',
  via: 'writeOutbox() in its delayed job `subscription-renewal`',
  emits: [SUBSCRIPTION_RENEWED, SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_CANCELLED]
}
