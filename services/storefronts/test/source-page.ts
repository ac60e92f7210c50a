import type { Knex } from 'knex'
import { schemaName } from '../../../shared/db/database.ts'
import { STOREFRONT_PRODUCTS, type Storefront } from '../resources/storefronts/storefronts.schema.ts'

/**
 * A storefront computed straight from the sources' tables (catalog products,
 * orders' seller_orders), with joins: what the projection must equal, in the
 * tests, and what the benchmark compares its reads with. Only tests and the
 * benchmark read other services' schemas; the service never does.
 */
export async function storefrontFromSources(db: Knex, namespace: string, sellerId: string): Promise<Omit<Storefront, 'name'>> {
  const { rows } = await db.raw<{ rows: Array<Omit<Storefront, 'name'>> }>(
    `select :sellerId::text as "sellerId",
       (select count(*)::int from :catalog:.products where "sellerId" = :sellerId) as "productCount",
       (select count(*)::int from :orders:.seller_orders where "sellerId" = :sellerId) as "orderCount",
       coalesce((select json_agg(json_build_object('id', p.id, 'title', p.title, 'price', p.price, 'currency', p.currency, 'stock', p.stock)
                 order by p."createdAt" desc, p.id)
                 from (select * from :catalog:.products where "sellerId" = :sellerId order by "createdAt" desc, id limit :limit) p), '[]') as products`,
    { sellerId, limit: STOREFRONT_PRODUCTS, catalog: schemaName(namespace, 'catalog'), orders: schemaName(namespace, 'orders') }
  )
  return rows[0]!
}
