import { IMPORT_COMPLETED, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { importErrorsMethods, importErrorsPath, importMethods, importPath } from './imports.shared.ts'

/** `/imports`: who may call each method and what each emits (the hooks read it; so does scripts/docs). */
export const importManifest = defineResource({
  path: importPath,
  methods: importMethods,
  access: {
    create: { who: 'sellers (body `text/csv`; flag `imports` on)', roles: ['seller'] },
    get: { who: 'the seller who uploaded it', roles: ['seller'] },
    remove: { who: 'the seller who uploaded it (cancels)', roles: ['seller'] }
  },
  // an empty file completes in the upload's own transaction; any other completes in its last chunk's
  emits: { create: [IMPORT_COMPLETED, TASK_NOTIFICATIONS_SEND_EMAIL] }
})

/** `/imports/:importId/errors`: the rejected rows, `text/csv` with header `row,sku,error`. */
export const importErrorsManifest = defineResource({
  path: importErrorsPath,
  methods: importErrorsMethods,
  access: { find: { who: 'the seller who uploaded the import', roles: ['seller'] } },
  emits: {}
})
