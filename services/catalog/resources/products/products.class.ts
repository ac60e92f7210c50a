import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { Params } from '@feathersjs/feathers'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Product, ProductData, ProductPatch, ProductQuery } from './products.schema.ts'

export type ProductParams = Params<ProductQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter'> & {
  /** the row as it was before a patch, locked for the patch's transaction */
  current?: Product
}

/** Products in the catalog's schema; the hooks in products.ts decide who may do what. */
export class ProductService extends KnexService<Product, ProductData, ProductParams, ProductPatch> {}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return {
    Model: app.get('db'),
    schema: app.get('schema'),
    name: 'products',
    id: 'id',
    paginate: { default: 20, max: 100 }
  }
}
