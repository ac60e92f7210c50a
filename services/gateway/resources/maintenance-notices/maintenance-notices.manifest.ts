import { MAINTENANCE_SCHEDULED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { maintenanceNoticeMethods, maintenanceNoticePath } from './maintenance-notices.shared.ts'

/** `/maintenance-notices`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const maintenanceNoticeManifest = defineResource({
  path: maintenanceNoticePath,
  methods: maintenanceNoticeMethods,
  access: {
    find: { who: 'anyone (no token needed)', open: true },
    create: { who: 'admin', roles: ['admin'] }
  },
  emits: { create: [MAINTENANCE_SCHEDULED] }
})
