import { CLAIM_ANSWERED, CLAIM_CLOSED, CLAIM_OPENED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { claimMethods, claimPath } from './claims.shared.ts'

/** `/claims`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const claimManifest = defineResource({
  path: claimPath,
  methods: claimMethods,
  access: {
    create: { who: "the order's buyer", roles: ['buyer'] },
    patch: { who: "a seller of the claim's order (`{ response }`: answers it); its buyer (`{ status: 'closed' }`: closes it)", roles: ['buyer', 'seller'] }
  },
  emits: { create: [CLAIM_OPENED], patch: [CLAIM_ANSWERED, CLAIM_CLOSED] }
})
