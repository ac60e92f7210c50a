import { Type } from '@feathersjs/typebox'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import type { CardProviderClient } from '../../../shared/cards/card-provider-client.ts'
import { PAYMENT_REFUNDED } from '../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'
import { partiesOf, paymentsTable, readPayment, REFUND_JOB, refundKey } from '../payment-rows.ts'

const refundPayload = Type.Object({ paymentId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/**
 * The refund of a capture nobody wants (its order was cancelled, or paid by another payment), scheduled once
 * per payment by requestRefund(). The provider refunds with key `refund-<paymentId>` (and at most once per
 * charge whatever the key), so a retry or a re-run after a crash finds the same refund; the job's transaction
 * records `refunded` and payment.refunded together. While the provider does not answer it retries
 * (REFUND_RETRY_DELAYS): a refund is owed whatever happens.
 */
export function refundJobs(app: ServiceApp, provider: CardProviderClient): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('jobs').define(REFUND_JOB, {
    payload: refundPayload,
    retry: { delaysMs: serviceConfig(app, 'payments').refundRetryDelaysMs },
    handler: async (job, trx) => {
      const captured = await readPayment(trx, schema, job.payload.paymentId)
      if (captured?.status !== 'captured' || !captured.chargeId) return
      const refund = await provider.refund({ idempotencyKey: refundKey(captured.id), chargeId: captured.chargeId })
      const payment = await readPayment(trx, schema, captured.id, true)
      if (payment?.status !== 'captured') return
      const at = isoTimestamp()
      await paymentsTable(trx, schema).where({ id: payment.id }).update({ status: 'refunded', refundId: refund.refundId })
      await writeOutbox(trx, identity, PAYMENT_REFUNDED, { ...partiesOf(payment), chargeId: payment.chargeId!, refundId: refund.refundId, refundedAt: at })
    }
  })
}
