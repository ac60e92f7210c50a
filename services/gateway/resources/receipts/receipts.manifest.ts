import { defineResource } from '../../../../shared/manifest/resource.ts'
import { receiptMethods, receiptPath } from './receipts.shared.ts'

/** `/receipts`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const receiptManifest = defineResource({
  path: receiptPath,
  methods: receiptMethods,
  access: {
    create: { who: 'an appliance (its token as `Authorization: Bearer`)' }
  },
  emits: {}
})
