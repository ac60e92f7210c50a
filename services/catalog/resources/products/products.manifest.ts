import { PRODUCT_CREATED, PRODUCT_UPDATED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { productMethods, productPath } from './products.shared.ts'

/** `/products`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const productManifest = defineResource({
  path: productPath,
  methods: productMethods,
  access: {
    find: { who: 'anyone (no token needed)', open: true },
    get: { who: 'anyone (no token needed)', open: true },
    create: { who: 'sellers', roles: ['seller'] },
    patch: { who: "the product's seller", roles: ['seller'] }
  },
  emits: { create: [PRODUCT_CREATED], patch: [PRODUCT_UPDATED] }
})
