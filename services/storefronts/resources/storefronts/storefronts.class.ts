import { NotFound } from '@feathersjs/errors'
import type { Id } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import { STOREFRONT } from '../../projection/versions.ts'
import type { Storefront } from './storefronts.schema.ts'

export type { Storefront }

/**
 * Reads a storefront from the live version of the projection: one row by its
 * key, the live version taken in the same statement (one snapshot), so a swap
 * or a batch committing meanwhile is seen whole or not at all. The product
 * list is in the row, rewritten by the batch that changed it. Read-only: the
 * projector alone writes these tables.
 */
export class StorefrontService {
  constructor(
    private readonly db: Knex,
    private readonly schema: string
  ) {}

  async get(id: Id): Promise<Storefront> {
    const sellerId = String(id)
    const { rows } = await this.db.raw<{ rows: Storefront[] }>(
      `select s."sellerId", s.name, s."productCount", s."orderCount", s.products
       from :schema:.storefronts s
       where s.version = (select version from :schema:.projections where name = :name and state = 'live')
         and s."sellerId" = :sellerId and (s.role = 'seller' or s."productCount" > 0 or s."orderCount" > 0)`,
      { schema: this.schema, name: STOREFRONT, sellerId }
    )
    const storefront = rows[0]
    if (!storefront) throw new NotFound(`No storefront for seller '${sellerId}'`)
    return storefront
  }
}
