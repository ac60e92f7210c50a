import { ORDER_CANCELLED, ORDER_CREATED, ORDER_PLACED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { orderMethods, orderPath } from './orders.shared.ts'

/** `/orders`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const orderManifest = defineResource({
  path: orderPath,
  methods: orderMethods,
  access: {
    find: { who: 'buyers (their own), sellers (orders holding their items), admin (all)' },
    get: { who: 'the buyer; a seller with items in it; admin' },
    create: { who: 'buyers', roles: ['buyer'] },
    patch: { who: 'the buyer (or admin), to cancel an order that waits for its payment', roles: ['buyer', 'admin'] }
  },
  emits: { create: [ORDER_PLACED, ORDER_CREATED], patch: [ORDER_CANCELLED] }
})
