import { defineResource } from '../../../../shared/manifest/resource.ts'
import { applianceMethods, appliancePath } from './appliances.shared.ts'

/** `/appliances`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const applianceManifest = defineResource({
  path: appliancePath,
  methods: applianceMethods,
  access: {
    find: { who: 'sellers, their own', roles: ['seller'] },
    create: { who: 'sellers', roles: ['seller'] },
    remove: { who: 'sellers, their own', roles: ['seller'] }
  },
  emits: {}
})
