import { randomUUID } from 'node:crypto'
import { Conflict, Forbidden, NotFound } from '@feathersjs/errors'
import type { Id, NullableId, Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import { writeOutbox } from '../../../../shared/bus/outbox.ts'
import { SUBSCRIPTION_CANCELLED } from '../../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { planPrices } from '../../plans.ts'
import { scheduleRenewal } from '../../renewals/renewal.ts'
import { periodEnd, subscriptionEvent, subscriptionsTable, type SubscriptionRow } from '../../subscription-row.ts'
import type { SubscriptionData, SubscriptionQuery } from './subscriptions.schema.ts'

export type SubscriptionParams = Params<SubscriptionQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter' | 'knex' | 'transaction'>

/**
 * Sellers' plans in the subscriptions schema. Subscribing stores the plan `active` at period 0 and, in
 * the same transaction, schedules the first period's charge to run at once (renewals/renewal.ts): the
 * request never waits on the card provider. Cancelling marks the plan to end with its paid period.
 */
export class SubscriptionService extends KnexService<SubscriptionRow, SubscriptionData, SubscriptionParams> {
  constructor(options: KnexAdapterOptions, private readonly app: ServiceApp) {
    super(options)
  }

  async _create(data: any, params?: SubscriptionParams): Promise<any> {
    const trx = params?.transaction?.trx
    if (!trx) throw new Error('a subscription is created in a transaction (transactional())')
    if (!params.caller) throw new Error('a subscription is created by a seller')
    const { plan, card } = data as SubscriptionData
    const sellerId = params.caller.id
    const live = await trx.withSchema(this.options.schema!).table(subscriptionsTable).where({ sellerId }).whereNot({ status: 'cancelled' }).first('id')
    // the partial unique index refuses the same under a race (23505, also a 409)
    if (live) throw new Conflict('This seller already has a live subscription; cancel it first', { sellerId, subscriptionId: live.id })
    const createdAt = isoTimestamp()
    const periodMs = serviceConfig(this.app, 'subscriptions').planPeriodMs
    const row = {
      id: randomUUID(),
      sellerId,
      plan,
      status: 'active' as const,
      period: 0,
      ...planPrices[plan],
      periodMs,
      currentPeriodEnd: isoTimestamp(periodEnd({ createdAt, periodMs }, 1)),
      cancelAtPeriodEnd: false,
      cardToken: card.token,
      reason: null,
      createdAt,
      cancelledAt: null
    }
    const created = await super._create(row as never, params)
    await scheduleRenewal(this.app, trx, { subscriptionId: row.id, period: 1, attempt: 1 }, { delayMs: 0 })
    return created
  }

  /**
   * `DELETE /subscriptions/:id` by its seller: an active plan keeps running to the end of its paid period
   * (`cancelAtPeriodEnd`), where its next renewal cancels it instead of charging; a past-due plan owes
   * nothing more and is cancelled at once. Cancelling a cancelled plan again changes nothing.
   */
  async _remove(id: NullableId, params?: SubscriptionParams): Promise<any> {
    const trx = params?.transaction?.trx
    if (!trx || id === null) throw new Error('a subscription is cancelled by id, in a transaction (transactional())')
    const table = () => trx.withSchema(this.options.schema!).table(subscriptionsTable)
    const sub: SubscriptionRow | undefined = await table().where({ id: id as Id }).forUpdate().first()
    if (!sub) throw new NotFound(`No record found for id '${id}'`)
    if (params.caller && sub.sellerId !== params.caller.id) throw new Forbidden('This subscription is not yours')
    if (sub.status === 'cancelled') return sub
    if (sub.status === 'active') {
      const [marked] = await table().where({ id: sub.id }).update({ cancelAtPeriodEnd: true }).returning('*')
      return marked
    }
    const at = isoTimestamp()
    const [cancelled] = await table().where({ id: sub.id }).update({ status: 'cancelled', cancelledAt: at }).returning('*')
    // only this branch decides a cancellation now, so the event is written here, in the request's transaction
    const schema = this.options.schema!
    await writeOutbox(trx, { namespace: this.app.get('namespace'), appId: this.app.get('service'), schema }, SUBSCRIPTION_CANCELLED, subscriptionEvent(cancelled, at))
    return cancelled
  }
}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return { Model: app.get('db'), schema: app.get('schema'), name: subscriptionsTable, id: 'id', paginate: { default: 20, max: 100 } }
}
