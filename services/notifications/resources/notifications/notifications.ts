import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { selfOrAdmin } from '../../../../shared/feathers/resources.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { NotificationService, getOptions } from './notifications.class.ts'
import { notificationQueryValidator, notificationResolver, notificationSchema } from './notifications.schema.ts'
import { notificationPath } from './notifications.shared.ts'
import { notificationManifest } from './notifications.manifest.ts'

export * from './notifications.class.ts'
export * from './notifications.schema.ts'
export * from './notifications.shared.ts'

/** A user who does not say whose notifications they want gets their own; newest first unless asked otherwise. */
const ownByDefault = async (context: HookContext) => {
  // Changed in place: the validated query keeps its mark.
  const query = (context.params.query ??= {})
  const caller = context.params.caller
  if (caller && caller.role !== 'admin' && query.userId === undefined) query.userId = caller.id
  query.$sort ??= { sentAt: -1, id: 1 }
}

export const notificationService = (app: ServiceApp) => app.service(notificationPath) as unknown as NotificationService

export const notifications = (app: ServiceApp) => {
  app.use(notificationPath, new NotificationService(getOptions(app)), { ...serviceOptions(notificationManifest), events: [] })
  app.service(notificationPath).hooks({
    around: {
      all: [authenticateUser(), publicQuery(notificationSchema), schemaHooks.resolveResult(notificationResolver)]
    },
    before: {
      all: [schemaHooks.validateQuery(notificationQueryValidator)],
      find: [ownByDefault, selfOrAdmin((context) => context.params.query?.userId)]
    }
  })
}
