import { NotAuthenticated } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { bearerToken } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import type { EventStore } from '../../history/store.ts'
import { findAppliance } from '../../sse/credentials.ts'
import { ReceiptService } from './receipts.class.ts'
import { receiptDataValidator, receiptSchema } from './receipts.schema.ts'
import { receiptPath } from './receipts.shared.ts'
import { receiptManifest } from './receipts.manifest.ts'

/** Around hook: the caller must present a live appliance token (401 otherwise); `params.appliance` is it. */
export function authenticateAppliance() {
  return async (context: HookContext, next: () => Promise<void>) => {
    if (context.params.provider) {
      const token = bearerToken(context.params.headers?.authorization)
      const appliance = token ? await findAppliance(context.app.get('db'), context.app.get('schema'), token) : undefined
      if (!appliance) throw new NotAuthenticated(token ? 'Invalid or revoked appliance token' : 'Not authenticated')
      context.params.appliance = appliance
    }
    await next()
  }
}

/** `/receipts`: an appliance acknowledges the orders it printed. */
export const receipts = (store: EventStore) => (app: ServiceApp) => {
  app.use(receiptPath, new ReceiptService(store), serviceOptions(receiptManifest))
  app.service(receiptPath).hooks({
    around: { all: [authenticateAppliance(), publicQuery(receiptSchema)] },
    before: { create: [schemaHooks.validateData(receiptDataValidator)] }
  })
}
