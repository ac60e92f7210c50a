import { CLAIM_OPENED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { claimMethods, claimPath } from './claims.shared.ts'

/** `/claims`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const claimManifest = defineResource({
  path: claimPath,
  methods: claimMethods,
  access: {
    create: { who: "the order's buyer", roles: ['buyer'] }
  },
  emits: { create: [CLAIM_OPENED] }
})
