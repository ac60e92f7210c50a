import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { refuseNonParties, scopeToParties } from '../parties.ts'
import { DeliveryService, getOptions } from './deliveries.class.ts'
import { deliveryManifest } from './deliveries.manifest.ts'
import {
  deliveryExternalResolver,
  deliveryPatchResolver,
  deliveryPatchValidator,
  deliveryQueryValidator,
  deliveryResolver,
  deliverySchema
} from './deliveries.schema.ts'
import { deliveryPath } from './deliveries.shared.ts'
import { checkShipment, emitShipped } from './shipment.ts'

/**
 * `/deliveries`: each seller's delivery of a paid order (made by the order.paid consumer). The order's
 * buyer and the seller read it; the seller ships it (`PATCH { status: 'shipped' }`), which emits
 * delivery.shipped in the same transaction.
 */
export function deliveries(app: ServiceApp): void {
  app.use(deliveryPath, new DeliveryService(getOptions(app)), serviceOptions(deliveryManifest))
  app.service(deliveryPath).hooks({
    around: {
      all: [
        authenticateUser(),
        publicQuery(deliverySchema),
        schemaHooks.resolveExternal(deliveryExternalResolver),
        schemaHooks.resolveResult(deliveryResolver)
      ],
      patch: [transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(deliveryQueryValidator)],
      find: [scopeToParties('createdAt')],
      get: [uuidId()],
      patch: [
        requireManifestRole(deliveryManifest),
        uuidId(),
        schemaHooks.validateData(deliveryPatchValidator),
        checkShipment,
        schemaHooks.resolveData(deliveryPatchResolver)
      ]
    },
    after: {
      get: [refuseNonParties],
      patch: [emitShipped]
    }
  })
}
