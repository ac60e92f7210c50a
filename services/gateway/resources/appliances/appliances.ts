import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import type { StreamHub } from '../../live/hub.ts'
import { ApplianceService } from './appliances.class.ts'
import { applianceDataValidator, applianceQueryValidator, applianceSchema } from './appliances.schema.ts'
import { appliancePath } from './appliances.shared.ts'
import { applianceManifest } from './appliances.manifest.ts'

/** `/appliances`: sellers register, list and revoke their own warehouse receipt appliances. */
export const appliances = (hub: StreamHub) => (app: ServiceApp) => {
  app.use(appliancePath, new ApplianceService(app, hub), serviceOptions(applianceManifest))
  app.service(appliancePath).hooks({
    around: { all: [authenticateUser(), publicQuery(applianceSchema)] },
    before: {
      all: [requireManifestRole(applianceManifest)],
      find: [schemaHooks.validateQuery(applianceQueryValidator)],
      create: [schemaHooks.validateData(applianceDataValidator)]
    }
  })
}
