import { BadRequest, Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import type { PaymentRow } from '../../payment-rows.ts'
import { PaymentService, getOptions, type PaymentParams } from './payments.class.ts'
import { paymentManifest } from './payments.manifest.ts'
import { paymentDataValidator, paymentExternalResolver, paymentQueryValidator, paymentResolver, paymentSchema } from './payments.schema.ts'
import { paymentPath } from './payments.shared.ts'

/**
 * `/payments`: a buyer pays an order (`POST`, 202: the charge runs in a job), and reads their payments;
 * admins read all. See PaymentService for what a create writes, jobs/charge.ts for the charge.
 */
export function payments(app: ServiceApp): void {
  app.use(paymentPath, new PaymentService(getOptions(app), app), serviceOptions(paymentManifest))
  app.service(paymentPath).hooks({
    around: {
      all: [authenticateUser(), publicQuery(paymentSchema), schemaHooks.resolveExternal(paymentExternalResolver), schemaHooks.resolveResult(paymentResolver)]
    },
    before: {
      all: [requireManifestRole(paymentManifest), schemaHooks.validateQuery(paymentQueryValidator)],
      find: [scopeToBuyer],
      get: [uuidId()],
      create: [schemaHooks.validateData(paymentDataValidator), idempotencyKey]
    },
    after: {
      get: [refuseOthers],
      create: [accepted]
    }
  })
}

/** The optional `Idempotency-Key` header: 1 to 255 visible characters, else 400 naming it. */
async function idempotencyKey(context: HookContext) {
  const raw = (context.params.headers as Record<string, string | string[] | undefined> | undefined)?.['idempotency-key']
  if (raw === undefined) return
  const key = Array.isArray(raw) ? raw[0] : raw
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new BadRequest('Invalid Idempotency-Key header', { 'Idempotency-Key': '1 to 255 visible ASCII characters' })
  }
  ;(context.params as PaymentParams).idempotencyKey = key
}

/** 202 Accepted: the payment exists, its charge is yet to run (or it is an existing payment, as it stands). */
async function accepted(context: HookContext) {
  context.http = { ...context.http, status: 202 }
}

/** Buyers list their own payments (newest first by default), admins all. */
async function scopeToBuyer(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller || caller.role === 'admin') return
  context.params.query = { $sort: { createdAt: -1, id: 1 }, ...context.params.query, buyerId: caller.id }
}

/** A payment is read by its buyer or an admin. */
async function refuseOthers(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller || caller.role === 'admin') return
  if ((context.result as PaymentRow).buyerId !== caller.id) throw new Forbidden('This payment is not yours to read')
}
