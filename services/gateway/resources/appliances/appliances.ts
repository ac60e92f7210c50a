import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser, requireRole } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { StreamHub } from '../../live/hub.ts'
import { ApplianceService } from './appliances.class.ts'
import { applianceDataValidator } from './appliances.schema.ts'
import { applianceMethods, appliancePath } from './appliances.shared.ts'

/** `/appliances`: sellers register, list and revoke their own warehouse receipt appliances. */
export const appliances = (hub: StreamHub) => (app: ServiceApp) => {
  app.use(appliancePath, new ApplianceService(app, hub), { methods: [...applianceMethods] })
  app.service(appliancePath).hooks({
    around: { all: [authenticateUser()] },
    before: {
      all: [requireRole('seller')],
      create: [schemaHooks.validateData(applianceDataValidator)]
    }
  })
}
