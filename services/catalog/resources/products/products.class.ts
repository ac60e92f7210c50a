import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { Params } from '@feathersjs/feathers'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Product, ProductData, ProductPatch, ProductQuery } from './products.schema.ts'

export type ProductParams = Params<ProductQuery> & Pick<KnexAdapterParams, 'paginate' | 'adapter' | 'transaction'>

/** Products in the catalog's schema; the hooks in products.ts decide who may do what. */
export class ProductService extends KnexService<Product, ProductData, ProductParams, ProductPatch> {
  /**
   * Every patch is a new version, counted by the database from the row's own
   * (locked by the patch's hooks, so two patches never get the same number).
   */
  async _patch(id: any, data: any, params?: ProductParams): Promise<any> {
    return super._patch(id, { ...data, version: this.getModel(params).raw('?? + 1', ['version']) }, params)
  }
}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return {
    Model: app.get('db'),
    schema: app.get('schema'),
    name: 'products',
    id: 'id',
    paginate: { default: 20, max: 100 }
  }
}
