import { DELIVERY_SHIPPED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { deliveryMethods, deliveryPath } from './deliveries.shared.ts'

/** `/deliveries`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const deliveryManifest = defineResource({
  path: deliveryPath,
  methods: deliveryMethods,
  access: {
    find: { who: "the order's buyer (every delivery of their orders), sellers (their own), admin (all)" },
    get: { who: "the order's buyer; the delivery's seller; admin" },
    patch: { who: "the delivery's seller (`{ status: 'shipped' }`: ships it)", roles: ['seller'] }
  },
  emits: { patch: [DELIVERY_SHIPPED] }
})
