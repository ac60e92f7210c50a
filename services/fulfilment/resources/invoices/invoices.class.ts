import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { InvoiceQuery, InvoiceRow } from './invoices.schema.ts'

export type InvoiceParams = Params<InvoiceQuery> & Pick<KnexAdapterParams, 'paginate'>

/** Invoices in the fulfilment schema; rows are written by the order.paid consumer, only read here. */
export class InvoiceService extends KnexService<InvoiceRow, InvoiceRow, InvoiceParams> {}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return { Model: app.get('db'), schema: app.get('schema'), name: 'invoices', id: 'id', paginate: { default: 20, max: 100 } }
}
