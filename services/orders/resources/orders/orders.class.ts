import { randomUUID } from 'node:crypto'
import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import type { OrderData, OrderQuery, OrderRow } from './orders.schema.ts'
import { priceAndReserve } from './pricing.ts'
import { Conflict, NotFound } from '@feathersjs/errors'
import { cancelOrder } from '../../checkout/transitions.ts'

export type OrderParams = Params<OrderQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter' | 'knex' | 'transaction'>

/**
 * Orders in the orders service's schema. Placing one prices it here: its
 * lines, total, currency and sellers come from the product projection, whose
 * stock it takes in the order's transaction. The hooks in orders.ts decide
 * who may place and see what; the resolvers only shape what leaves.
 */
export class OrderService extends KnexService<OrderRow, OrderData, OrderParams> {
  async _create(data: any, params?: OrderParams): Promise<any> {
    const trx = params?.transaction?.trx
    if (!trx) throw new Error('an order is placed in a transaction (transactional())')
    if (!params.caller) throw new Error('an order is placed by a buyer')
    const { items, shipTo } = data as OrderData
    const priced = await priceAndReserve(trx, this.options.schema!, items)
    const order: OrderRow = {
      id: randomUUID(),
      buyerId: params.caller.id,
      status: 'created',
      items: priced.lines,
      total: priced.total,
      currency: priced.currency,
      sellerIds: [...new Set(priced.lines.map((line) => line.sellerId))],
      createdAt: isoTimestamp(),
      shipTo: shipTo ?? null
    }
    // The lines are a jsonb column: the pg driver would send a JS array as a PostgreSQL array. What is
    // stored is the priced row, not the client's OrderData the adapter's signature names.
    return super._create({ ...order, items: JSON.stringify(order.items), shipTo: order.shipTo && JSON.stringify(order.shipTo) } as never, params)
  }

  /**
   * Cancelling: the only change a buyer makes to an order (the hooks check it is theirs). It locks the order,
   * gives its reservation back and answers the order as it now is; one no longer waiting for its payment is a 409.
   */
  async _patch(id: any, _data: any, params?: OrderParams): Promise<any> {
    const trx = params?.transaction?.trx
    if (!trx) throw new Error('an order is cancelled in a transaction (transactional())')
    const outcome = await cancelOrder(trx, this.options.schema!, String(id), 'buyer')
    if ('status' in outcome) {
      if (!outcome.status) throw new NotFound(`No record found for id '${id}'`)
      throw new Conflict(`Order ${id} is ${outcome.status}: only an order waiting for its payment can be cancelled`, { status: outcome.status })
    }
    return this._get(id, { ...params, query: {} })
  }
}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return {
    Model: app.get('db'),
    schema: app.get('schema'),
    name: 'orders',
    id: 'id',
    paginate: { default: 20, max: 100 }
  }
}
