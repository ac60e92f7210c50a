import { BadRequest, Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { CLAIM_OPENED } from '../../../../shared/contracts/order.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { ClaimService, getOptions } from './claims.class.ts'
import {
  claimDataResolver,
  claimDataValidator,
  claimPatchResolver,
  claimPatchValidator,
  claimResolver,
  claimSchema,
  type Claim,
  type ClaimData
} from './claims.schema.ts'
import { checkClaimChange, emitClaimChange } from './claim-changes.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { scheduleClaimDeadline } from '../../jobs/claim-deadline.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { claimPath } from './claims.shared.ts'
import { claimManifest } from './claims.manifest.ts'
import { claimsSwitchedOn } from './claims-flag.ts'

/**
 * `POST /claims`: the buyer of an order opens a claim on it; emits claim.opened.
 * `PATCH /claims/:id`: a seller of the order answers it (claim.answered), or its buyer closes it (claim.closed).
 * Opening a claim sets its deadline (CLAIM_RESPONSE_TIMEOUT, jobs/claim-deadline.ts); answering or closing drops it (claim-changes.ts).
 */
export function claims(app: ServiceApp): void {
  app.use(claimPath, new ClaimService(getOptions(app)), serviceOptions(claimManifest))
  app.service(claimPath).hooks({
    around: {
      all: [authenticateUser(), publicQuery(claimSchema), schemaHooks.resolveResult(claimResolver)],
      create: [transactional()],
      patch: [transactional()]
    },
    before: {
      create: [
        claimsSwitchedOn,
        requireManifestRole(claimManifest),
        schemaHooks.validateData(claimDataValidator),
        checkOrder,
        schemaHooks.resolveData(claimDataResolver)
      ],
      patch: [
        requireManifestRole(claimManifest),
        uuidId(),
        schemaHooks.validateData(claimPatchValidator),
        checkClaimChange,
        schemaHooks.resolveData(claimPatchResolver)
      ]
    },
    after: {
      create: [
        async (context: HookContext) => {
          const claim = context.result as Claim
          await emit(context, CLAIM_OPENED, {
            claimId: claim.id,
            orderId: claim.orderId,
            buyerId: claim.buyerId,
            reason: claim.reason,
            openedAt: isoTimestamp(claim.openedAt)
          })
        },
        async (context: HookContext) => scheduleClaimDeadline(context.app, context.params.transaction!.trx, (context.result as Claim).id)
      ],
      patch: [emitClaimChange]
    }
  })
}

/** Only the order's buyer may claim on it. */
async function checkOrder(context: HookContext) {
  const { orderId } = context.data as ClaimData
  const order = await context.params.transaction!.trx.withSchema(context.app.get('schema')).table('orders').where({ id: orderId }).first('buyerId')
  if (!order) throw new BadRequest(`Unknown order ${orderId}`, { orderId: 'no such order' })
  if (order.buyerId !== context.params.caller?.id) throw new Forbidden('Only the buyer of an order may open a claim on it')
}
