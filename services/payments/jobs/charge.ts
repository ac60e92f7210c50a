import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import { CardProviderRefused, CardProviderUnavailable, type CardProviderClient, type ChargeOutcome } from '../../../shared/cards/card-provider-client.ts'
import { PAYMENT_CAPTURED, PAYMENT_FAILED } from '../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'
import type { JobContext } from '../../../shared/jobs/types.ts'
import { captureUnwanted, lockOrder, partiesOf, paymentsTable, readOrder, readPayment, requestRefund, type PaymentRow } from '../payment-rows.ts'

/** The charge job's name; its key is the payment's id, which is also the provider's idempotency key. */
export const CHARGE_JOB = 'charge'

const chargePayload = Type.Object({ paymentId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/** Schedules the payment's charge in the transaction that creates the payment: no payment without its charge. */
export async function scheduleCharge(app: ServiceApp, trx: Knex.Transaction, paymentId: string): Promise<void> {
  await app.get('jobs').schedule(trx, CHARGE_JOB, { key: paymentId, payload: { paymentId } })
}

/** What the charge ends as when the provider gave no charge: a reason for `failed`. */
type Settlement = ChargeOutcome | { status: 'failed'; reason: string }

/**
 * The charge: call the provider with idempotency key = the payment's id, then, in the job's ONE transaction,
 * lock the order's and the payment's rows and record `captured` + payment.captured or `failed` + payment.failed.
 *
 * Never charged twice: every attempt (a timeout inside the client, a retry of the job, a re-run after a SIGKILL
 * between the provider's answer and the commit) sends the same key, and the provider answers a known key with
 * the charge it made. Never failed though captured: while the provider does not answer the job retries
 * (CHARGE_RETRY_DELAYS); only on its last attempt, and only when findCharge(key) says the provider made no
 * charge, is the payment failed as `provider_unavailable`. If even that lookup goes unanswered, the job fails
 * and the payment stays `pending` for an operator (`bazaar jobs run-now`): a decision needs the provider.
 */
export function chargeJobs(app: ServiceApp, provider: CardProviderClient): void {
  const schema = app.get('schema')
  const config = serviceConfig(app, 'payments')
  app.get('jobs').define(CHARGE_JOB, {
    payload: chargePayload,
    retry: { delaysMs: config.chargeRetryDelaysMs },
    handler: async (job, trx) => {
      const payment = await readPayment(trx, schema, job.payload.paymentId)
      if (payment?.status !== 'pending') return
      const settlement = await settle(provider, payment, job, config.chargeRetryDelaysMs.length, captureUnwanted(await readOrder(trx, schema, payment.orderId), payment.id))
      await record(app, trx, payment.id, settlement)
    }
  })
}

/** Asks the provider; the HTTP call happens before any row lock is taken, so the order's other writers never wait on it. */
async function settle(provider: CardProviderClient, payment: PaymentRow, job: JobContext<unknown>, retries: number, unwanted: boolean): Promise<Settlement> {
  const key = payment.id
  // Cancelled (or paid otherwise) before we charged: charge nothing new, but an earlier attempt may have charged
  // (it died before recording): that capture is recorded, and refunded.
  if (unwanted) return (await provider.findCharge(key)) ?? { status: 'failed', reason: 'order_closed' }
  try {
    return await provider.charge({ idempotencyKey: key, token: payment.token, amount: payment.amount, currency: payment.currency })
  } catch (err) {
    if (err instanceof CardProviderRefused) return { status: 'failed', reason: 'provider_refused' }
    if (!(err instanceof CardProviderUnavailable) || job.attempt <= retries) throw err
    // the last attempt: the provider may have charged under our key although we never heard its answer
    return (await provider.findCharge(key)) ?? { status: 'failed', reason: 'provider_unavailable' }
  }
}

async function record(app: ServiceApp, trx: Knex.Transaction, paymentId: string, settlement: Settlement): Promise<void> {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  const pending = await readPayment(trx, schema, paymentId)
  const order = await lockOrder(trx, schema, pending!.orderId)
  const payment = await readPayment(trx, schema, paymentId, true)
  if (payment?.status !== 'pending') return
  const at = isoTimestamp()
  if (settlement.status === 'captured') {
    await paymentsTable(trx, schema).where({ id: payment.id }).update({ status: 'captured', chargeId: settlement.chargeId, settledAt: at })
    await writeOutbox(trx, identity, PAYMENT_CAPTURED, { ...partiesOf(payment), chargeId: settlement.chargeId, capturedAt: at })
    // the order was cancelled, or paid by another payment, before this capture was recorded: give it back
    if (captureUnwanted(order, payment.id)) await requestRefund(app, trx, { ...payment, status: 'captured', chargeId: settlement.chargeId })
    return
  }
  const reason = settlement.reason
  await paymentsTable(trx, schema).where({ id: payment.id }).update({ status: 'failed', reason, chargeId: settlement.status === 'declined' ? settlement.chargeId ?? null : null, settledAt: at })
  await writeOutbox(trx, identity, PAYMENT_FAILED, { ...partiesOf(payment), reason, failedAt: at })
}
