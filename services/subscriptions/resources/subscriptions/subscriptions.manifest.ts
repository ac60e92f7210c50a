import { SUBSCRIPTION_CANCELLED, SUBSCRIPTION_CREATED } from '../../../../shared/contracts/checkout.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { subscriptionMethods, subscriptionPath } from './subscriptions.shared.ts'

/** `/subscriptions`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const subscriptionManifest = defineResource({
  path: subscriptionPath,
  methods: subscriptionMethods,
  access: {
    find: { who: 'sellers (their own), admin (all)', roles: ['seller', 'admin'] },
    get: { who: 'its seller; admin', roles: ['seller', 'admin'] },
    create: { who: 'sellers (one live plan each)', roles: ['seller'] },
    remove: { who: 'its seller: cancels at the end of the paid period (a past-due plan at once)', roles: ['seller'] }
  },
  emits: { create: [SUBSCRIPTION_CREATED], remove: [SUBSCRIPTION_CANCELLED] }
})
