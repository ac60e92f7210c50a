import { NotFound } from '@feathersjs/errors'
import type { Id } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import { STOREFRONT } from '../../projection/versions.ts'
import { STOREFRONT_PRODUCTS, type Storefront } from './storefronts.schema.ts'

export type { Storefront }

/**
 * Reads a storefront from the live version of the projection, in one
 * statement: the live version, the seller's row and their newest products
 * come from one snapshot, so a swap or a batch committing meanwhile is seen
 * whole or not at all. Read-only: the projector alone writes these tables.
 */
export class StorefrontService {
  constructor(
    private readonly db: Knex,
    private readonly schema: string
  ) {}

  async get(id: Id): Promise<Storefront> {
    const sellerId = String(id)
    const { rows } = await this.db.raw<{ rows: Storefront[] }>(
      `with live as (select version from :schema:.projections where name = :name and state = 'live')
       select s."sellerId", s.name, s."productCount", s."orderCount",
         coalesce((select json_agg(json_build_object('id', p."productId", 'title', p.title, 'price', p.price, 'currency', p.currency, 'stock', p.stock)
                   order by p."createdAt" desc, p."productId")
                   from (select * from :schema:.storefront_products p
                         where p.version = s.version and p."sellerId" = s."sellerId"
                         order by p."createdAt" desc, p."productId" limit :limit) p), '[]') as products
       from :schema:.storefronts s join live on live.version = s.version
       where s."sellerId" = :sellerId and (s.role = 'seller' or s."productCount" > 0 or s."orderCount" > 0)`,
      { schema: this.schema, name: STOREFRONT, limit: STOREFRONT_PRODUCTS, sellerId }
    )
    const storefront = rows[0]
    if (!storefront) throw new NotFound(`No storefront for seller '${sellerId}'`)
    return storefront
  }
}
