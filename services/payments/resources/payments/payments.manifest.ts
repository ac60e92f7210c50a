import { defineResource } from '../../../../shared/manifest/resource.ts'
import { paymentMethods, paymentPath } from './payments.shared.ts'

/**
 * `/payments`: who may call each method (the hooks and the docs read it). Creating a payment emits nothing
 * itself: it schedules the charge job, which emits payment.captured or payment.failed (jobs/payment-jobs.manifest.ts).
 */
export const paymentManifest = defineResource({
  path: paymentPath,
  methods: paymentMethods,
  access: {
    find: { who: 'buyers (their own, e.g. `?orderId=`), admin (all)', roles: ['buyer', 'admin'] },
    get: { who: 'the payment\'s buyer; admin', roles: ['buyer', 'admin'] },
    create: { who: 'the order\'s buyer', roles: ['buyer'] }
  },
  emits: {}
})
