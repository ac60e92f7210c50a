import { randomUUID } from 'node:crypto'
import { Conflict, Forbidden, NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { Knex } from 'knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { scheduleCharge } from '../../jobs/charge.ts'
import { awaitOrder } from '../../order-arrival.ts'
import { livePaymentOf, lockOrder, paymentByKey, paymentsTable, readPayment, type PaymentRow } from '../../payment-rows.ts'
import type { PaymentData, PaymentQuery } from './payments.schema.ts'

export type PaymentParams = Params<PaymentQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter' | 'knex' | 'transaction'> & {
  /** the request's `Idempotency-Key`, checked by the hooks */
  idempotencyKey?: string
}

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505'

/**
 * Payments in the payments service's schema. Making one writes the payment row and its charge job, nothing
 * else, in one transaction: the provider is never called on the request path (jobs/charge.ts charges).
 *
 * At most one live (pending or captured) payment per order: the request locks the order's projection row, so
 * a second payment, a replayed key, or a concurrent twin finds the first and gets it back; a partial unique
 * index on live payments is the last guard. The hooks in payments.ts check who may pay.
 */
export class PaymentService extends KnexService<PaymentRow, PaymentData, PaymentParams> {
  constructor(options: KnexAdapterOptions, private readonly app: ServiceApp) {
    super(options)
  }

  async _create(data: any, params?: PaymentParams): Promise<any> {
    const caller = params?.caller
    if (!caller) throw new Error('a payment is made by a buyer')
    const { orderId, card } = data as PaymentData
    const key = params.idempotencyKey
    const schema = this.options.schema!
    const db = this.app.get('db')

    const replayed = key ? await paymentByKey(db, schema, caller.id, key) : undefined
    if (replayed) return sameRequest(replayed, orderId, card.token)
    // The order was usually placed a moment ago: order.placed may still be on its way to the projection.
    const known = await awaitOrder(db, schema, orderId, serviceConfig(this.app, 'payments').orderWaitMs)
    if (!known) throw new NotFound(`No order ${orderId}`)
    // as for its order itself (GET /orders/:id): another buyer's order is refused, not hidden
    if (known.buyerId !== caller.id) throw new Forbidden(`Order ${orderId} is not yours to pay`)

    try {
      return await db.transaction(async (trx) => {
        const order = (await lockOrder(trx, schema, orderId))!
        if (key) {
          const twin = await paymentByKey(trx, schema, caller.id, key)
          if (twin) return sameRequest(twin, orderId, card.token)
        }
        if (order.status === 'cancelled') throw new Conflict(`Order ${orderId} was cancelled`, { orderId: 'cancelled' })
        const paying = order.status === 'paid' && order.paidPaymentId ? await readPayment(trx, schema, order.paidPaymentId) : undefined
        const existing = paying ?? (await livePaymentOf(trx, schema, orderId))
        if (existing) return existing
        return await this.insert(trx, { orderId, buyerId: caller.id, amount: order.amount, currency: order.currency, token: card.token, key })
      })
    } catch (err) {
      // the same key for another order at the same moment: the unique index decided, the other request won
      if (key && isUniqueViolation(err)) {
        const winner = await paymentByKey(db, schema, caller.id, key)
        if (winner) return sameRequest(winner, orderId, card.token)
      }
      throw err
    }
  }

  private async insert(trx: Knex.Transaction, p: { orderId: string; buyerId: string; amount: number; currency: string; token: string; key?: string }): Promise<PaymentRow> {
    const schema = this.options.schema!
    const row = {
      id: randomUUID(),
      orderId: p.orderId,
      buyerId: p.buyerId,
      amount: p.amount,
      currency: p.currency,
      token: p.token,
      status: 'pending' as const,
      reason: null,
      idempotencyKey: p.key ?? null,
      createdAt: isoTimestamp()
    }
    await paymentsTable(trx, schema).insert(row)
    await scheduleCharge(this.app, trx, row.id)
    return (await readPayment(trx, schema, row.id))!
  }
}

/**
 * A replayed Idempotency-Key answers with the payment it made, as it stands now (never a second charge); the
 * same key with another body (another order, or another card) is a 409 naming the header.
 */
function sameRequest(payment: PaymentRow, orderId: string, token: string): PaymentRow {
  if (payment.orderId !== orderId || payment.token !== token) {
    throw new Conflict('This Idempotency-Key was used for another payment', { 'Idempotency-Key': 'reused with another order or card' })
  }
  return payment
}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return {
    Model: app.get('db'),
    schema: app.get('schema'),
    name: 'payments',
    id: 'id',
    paginate: { default: 20, max: 100 }
  }
}
