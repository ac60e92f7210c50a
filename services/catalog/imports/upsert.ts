import type { Knex } from 'knex'
import type { Product } from '../resources/products/products.schema.ts'
import type { ImportRow } from '../resources/imports/imports.schema.ts'

/** The columns an event needs (toProductEvent), and whether the row is new. */
const returned = `p.id, p."sellerId", p."parentId", p.sku, p.title, p.description, p.price, p.currency, p.stock, p.version, p."createdAt", p."updatedAt", (xmax = 0) as inserted`

/**
 * Creates or updates the seller's products by sku, in one statement: a new
 * sku is a new product (version 1), a known one gets the row's fields and a
 * new version, and a row that changes nothing is left alone (no version, no
 * event: importing the same file again is quiet). Sorted by sku, so two
 * chunks touching the same skus lock them in the same order. The rows go as
 * one JSON document (jsonb_to_recordset): JSON.stringify is native, where
 * six array literals were escaped field by field in JavaScript.
 */
export async function upsertProducts(trx: Knex.Transaction, schema: string, sellerId: string, rows: ImportRow[]): Promise<Array<Product & { inserted: boolean }>> {
  if (rows.length === 0) return []
  const { rows: changed } = await trx.raw(
    `insert into ??.products as p (id, "sellerId", "parentId", sku, title, description, price, currency, stock, version, "createdAt", "updatedAt")
     select gen_random_uuid(), ?, null, t.sku, t.title, t.description, t.price, t.currency, t.stock, 1, clock_timestamp(), clock_timestamp()
     from jsonb_to_recordset(?::jsonb) as t(sku text, title text, description text, price int, currency text, stock int)
     order by t.sku
     on conflict ("sellerId", sku) where sku is not null do update set
       title = excluded.title, description = excluded.description, price = excluded.price,
       currency = excluded.currency, stock = excluded.stock, version = p.version + 1, "updatedAt" = excluded."updatedAt"
     where (p.title, p.description, p.price, p.currency, p.stock) is distinct from
           (excluded.title, excluded.description, excluded.price, excluded.currency, excluded.stock)
     returning ${returned}`,
    [schema, sellerId, JSON.stringify(rows.map((r) => ({ sku: r.sku, title: r.title, description: r.description, price: r.price, currency: r.currency, stock: r.stock })))]
  )
  return changed
}
