import { NotFound } from '@feathersjs/errors'
import type { Id } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import { STOREFRONT } from '../../projection/versions.ts'
import type { Page, PageCache } from '../../pages/page-cache.ts'
import type { Storefront } from './storefronts.schema.ts'

export type { Storefront }

/**
 * Reads a storefront from the live version of the projection: one row by its
 * key, the live version taken in the same statement (one snapshot), so a swap
 * or a batch committing meanwhile is seen whole or not at all. The product
 * list is in the row, rewritten by the batch that changed it. Read-only: the
 * projector alone writes these tables. With a page cache, a page read once is
 * answered from memory until the projection changes it (pages/page-cache.ts).
 */
export class StorefrontService {
  constructor(
    private readonly db: Knex,
    private readonly schema: string,
    private readonly pages?: PageCache
  ) {
    pages?.attach((sellerId) => this.read(sellerId))
  }

  async get(id: Id): Promise<Storefront> {
    const sellerId = String(id)
    if (!this.pages) {
      const found = await this.read(sellerId)
      if (!found) throw notFound(sellerId)
      return found.storefront
    }
    const page = await this.page(sellerId)
    // a copy of its own for the caller: hooks may change what they are given, the cached page must not change
    return JSON.parse(page.body) as Storefront
  }

  /** The seller's page as it is sent (from the cache when there is one); 404 for no storefront. */
  async page(sellerId: string): Promise<Page> {
    const page = this.pages ? await this.pages.page(sellerId) : undefined
    if (!page) throw notFound(sellerId)
    return page
  }

  /** The read statement: the storefront and the version it was read from, in one snapshot. */
  async read(sellerId: string): Promise<{ storefront: Storefront; version: number } | undefined> {
    const { rows } = await this.db.raw<{ rows: Array<Storefront & { version: number }> }>(
      `select s."sellerId", s.name, s."productCount", s."orderCount", s.products, s.version
       from :schema:.storefronts s
       where s.version = (select version from :schema:.projections where name = :name and state = 'live')
         and s."sellerId" = :sellerId and (s.role = 'seller' or s."productCount" > 0 or s."orderCount" > 0)`,
      { schema: this.schema, name: STOREFRONT, sellerId }
    )
    const row = rows[0]
    if (!row) return undefined
    const { version, ...storefront } = row
    return { storefront, version }
  }
}

export const notFound = (sellerId: string) => new NotFound(`No storefront for seller '${sellerId}'`)
