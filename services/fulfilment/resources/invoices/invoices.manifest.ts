import { defineResource } from '../../../../shared/manifest/resource.ts'
import { invoiceMethods, invoicePath } from './invoices.shared.ts'

/** `/invoices`: who may call each method (the hooks read it; so does scripts/docs). Reading emits nothing. */
export const invoiceManifest = defineResource({
  path: invoicePath,
  methods: invoiceMethods,
  access: {
    find: { who: "the order's buyer (every invoice of their orders), sellers (their own), admin (all)" },
    get: { who: "the order's buyer; the invoice's seller; admin" }
  },
  emits: {}
})
