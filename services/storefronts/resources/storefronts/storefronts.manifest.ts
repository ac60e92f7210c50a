import { defineResource } from '../../../../shared/manifest/resource.ts'
import { storefrontMethods, storefrontPath } from './storefronts.shared.ts'

/** `/storefronts`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const storefrontManifest = defineResource({
  path: storefrontPath,
  methods: storefrontMethods,
  access: {
    get: { who: 'anyone (404 for an id that is no known seller)', open: true }
  },
  emits: {}
})
