import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { DeliveryPatch, DeliveryQuery, DeliveryRow } from './deliveries.schema.ts'

export type DeliveryParams = Params<DeliveryQuery> & Pick<KnexAdapterParams, 'paginate' | 'transaction'>

/** Deliveries in the fulfilment schema; rows are written by the order.paid consumer, shipped by PATCH. */
export class DeliveryService extends KnexService<DeliveryRow, DeliveryRow, DeliveryParams, DeliveryPatch> {}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return { Model: app.get('db'), schema: app.get('schema'), name: 'deliveries', id: 'id', paginate: { default: 20, max: 100 } }
}
