import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { OrderLine } from '../../../../shared/contracts/order.ts'
import type { OrderData, OrderQuery, OrderRow } from './orders.schema.ts'

export type OrderParams = Params<OrderQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter' | 'knex'> & {
  /** the lines priced from the projection, with stock already taken, by `reserveStock` */
  priced?: { lines: OrderLine[]; currency: string }
}

/** Orders in the orders service's schema; the hooks in orders.ts decide who sees what. */
export class OrderService extends KnexService<OrderRow, OrderData, OrderParams> {
  // The lines are a jsonb column: the pg driver would send a JS array as a PostgreSQL array.
  async _create(data: any, params?: OrderParams): Promise<any> {
    return super._create({ ...data, items: JSON.stringify(data.items) }, params)
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
