import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { refuseNonParties, scopeToParties } from '../parties.ts'
import { InvoiceService, getOptions } from './invoices.class.ts'
import { invoiceManifest } from './invoices.manifest.ts'
import { invoiceExternalResolver, invoiceQueryValidator, invoiceResolver, invoiceSchema } from './invoices.schema.ts'
import { invoicePath } from './invoices.shared.ts'

/**
 * `/invoices`: each seller's invoice of a paid order (issued by the order.paid consumer), read by the
 * order's buyer, the seller and admins: `?orderId=` for an order's, `?sellerId=` for a seller's.
 */
export function invoices(app: ServiceApp): void {
  app.use(invoicePath, new InvoiceService(getOptions(app)), serviceOptions(invoiceManifest))
  app.service(invoicePath).hooks({
    around: {
      all: [
        authenticateUser(),
        publicQuery(invoiceSchema),
        schemaHooks.resolveExternal(invoiceExternalResolver),
        schemaHooks.resolveResult(invoiceResolver)
      ]
    },
    before: {
      all: [schemaHooks.validateQuery(invoiceQueryValidator)],
      find: [scopeToParties('issuedAt')],
      get: [uuidId()]
    },
    after: {
      get: [refuseNonParties]
    }
  })
}
