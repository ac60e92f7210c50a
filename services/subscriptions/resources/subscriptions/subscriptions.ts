import { Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { SUBSCRIPTION_CREATED } from '../../../../shared/contracts/checkout.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { subscriptionEvent, type SubscriptionRow } from '../../subscription-row.ts'
import { SubscriptionService, getOptions } from './subscriptions.class.ts'
import {
  subscriptionDataValidator,
  subscriptionExternalResolver,
  subscriptionQueryValidator,
  subscriptionResolver,
  subscriptionSchema
} from './subscriptions.schema.ts'
import { subscriptionManifest } from './subscriptions.manifest.ts'
import { subscriptionPath } from './subscriptions.shared.ts'

/**
 * `/subscriptions`: a seller subscribes to a plan (subscription.created; its first period is charged by
 * a job scheduled in the same transaction), reads their plans, and cancels at the period's end.
 */
export function subscriptions(app: ServiceApp): void {
  app.use(subscriptionPath, new SubscriptionService(getOptions(app), app), serviceOptions(subscriptionManifest))
  app.service(subscriptionPath).hooks({
    around: {
      all: [
        authenticateUser(),
        publicQuery(subscriptionSchema),
        schemaHooks.resolveExternal(subscriptionExternalResolver),
        schemaHooks.resolveResult(subscriptionResolver)
      ],
      create: [transactional()],
      remove: [transactional()]
    },
    before: {
      all: [requireManifestRole(subscriptionManifest), schemaHooks.validateQuery(subscriptionQueryValidator)],
      find: [scopeToCaller],
      get: [uuidId()],
      create: [schemaHooks.validateData(subscriptionDataValidator)],
      remove: [uuidId()]
    },
    after: {
      get: [refuseOthers],
      create: [
        async (context: HookContext) => {
          const row = context.result as SubscriptionRow
          await emit(context, SUBSCRIPTION_CREATED, subscriptionEvent(row, isoTimestamp(row.createdAt)))
        }
      ]
    }
  })
}

/** A seller lists their own plans (a `sellerId` they ask for is overridden), newest first; an admin lists all, or one seller's. */
async function scopeToCaller(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller) return
  const query = { $sort: { createdAt: -1, id: 1 }, ...context.params.query }
  context.params.query = caller.role === 'admin' ? query : { ...query, sellerId: caller.id }
}

/** A plan is read by its seller or an admin. */
async function refuseOthers(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller || caller.role === 'admin') return
  if ((context.result as SubscriptionRow).sellerId !== caller.id) throw new Forbidden('This subscription is not yours to read')
}
