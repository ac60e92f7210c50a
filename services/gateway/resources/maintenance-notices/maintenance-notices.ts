import { hooks as schemaHooks } from '@feathersjs/schema'
import { MAINTENANCE_SCHEDULED } from '../../../../shared/contracts/index.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import type { EventStore } from '../../history/store.ts'
import { MaintenanceNoticeService } from './maintenance-notices.class.ts'
import { maintenanceNoticeDataValidator, maintenanceNoticeQueryValidator, maintenanceNoticeSchema, type MaintenanceNotice } from './maintenance-notices.schema.ts'
import { maintenanceNoticePath } from './maintenance-notices.shared.ts'
import { maintenanceNoticeManifest } from './maintenance-notices.manifest.ts'

/** `/maintenance-notices`: admins announce maintenance (pushed to every client); anyone lists the active ones. */
export const maintenanceNotices = (store: EventStore) => (app: ServiceApp) => {
  app.use(maintenanceNoticePath, new MaintenanceNoticeService(store), serviceOptions(maintenanceNoticeManifest))
  app.service(maintenanceNoticePath).hooks({
    around: {
      all: [publicQuery(maintenanceNoticeSchema)],
      create: [authenticateUser(), transactional()]
    },
    before: {
      find: [schemaHooks.validateQuery(maintenanceNoticeQueryValidator)],
      create: [requireManifestRole(maintenanceNoticeManifest), schemaHooks.validateData(maintenanceNoticeDataValidator)]
    },
    after: {
      create: [
        async (context: HookContext) => {
          const notice = context.result as MaintenanceNotice
          await emit(context, MAINTENANCE_SCHEDULED, notice)
        }
      ]
    }
  })
}
