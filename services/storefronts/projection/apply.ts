import type { Knex } from 'knex'
import { parseBody } from '../../../shared/bus/delivery.ts'
import { checkContract } from '../../../shared/contracts/validate.ts'
import type { EventPayload } from '../../../shared/contracts/index.ts'
import type { StreamMessage } from '../../../shared/bus/stream-reader.ts'
import { STOREFRONT_PRODUCTS } from '../resources/storefronts/storefronts.schema.ts'

/** Where one projection version's rows are: its schema and number. */
export interface Target {
  trx: Knex.Transaction
  schema: string
  version: number
}

/**
 * What applying an entry did: `skipped` carries why it was not applied (not an event of ours, or
 * against its contract); `listed`, the seller whose product list it may have changed.
 */
export type Applied = { skipped?: string; listed?: string }

/**
 * Applies one log entry to one projection version. Every effect is
 * idempotent and order-proof on its own: a product keeps its highest
 * version, an order counts once per (seller, order), a user's name and role
 * are those of their highest version. So a repeated entry (an outbox relay
 * publishes at least once) or two relays' events interleaved cannot make the
 * projection differ from its sources.
 */
export async function applyEntry(target: Target, entry: StreamMessage): Promise<Applied> {
  const parsed = parseBody(entry)
  if (!parsed.ok) return { skipped: parsed.reason }
  const check = checkContract(entry.routingKey, parsed.value, parsed.text)
  if (!check.ok) return { skipped: check.reason }
  switch (entry.routingKey) {
    case 'user.registered':
    case 'user.updated':
      await applyUser(target, check.payload as EventPayload<'user.registered'>)
      return {}
    case 'product.created':
    case 'product.updated':
      await applyProduct(target, check.payload as EventPayload<'product.created'>)
      return { listed: (check.payload as EventPayload<'product.created'>).sellerId }
    case 'order.created':
      await applyOrder(target, check.payload as EventPayload<'order.created'>)
      return {}
    default:
      // order.placed repeats order.created's lines; sessions are no storefront's business
      return {}
  }
}

const table = (target: Target, name: string) => target.trx.withSchema(target.schema).table(name)

async function applyUser(target: Target, user: { userId: string; name: string; role: string; version?: number }): Promise<void> {
  const row = { version: target.version, sellerId: user.userId, name: user.name, role: user.role, userVersion: user.version ?? 0 }
  // Without a version (an older producer) the last one in the log wins; with one, only a newer one does.
  await table(target, 'storefronts')
    .insert(row)
    .onConflict(['version', 'sellerId'])
    .merge(['name', 'role', 'userVersion'])
    .where('storefronts.userVersion', '<=', row.userVersion)
}

async function applyProduct(target: Target, product: EventPayload<'product.created'>): Promise<void> {
  const row = {
    version: target.version,
    productId: product.productId,
    sellerId: product.sellerId,
    title: product.title,
    price: product.price,
    currency: product.currency,
    stock: product.stock,
    productVersion: product.version,
    createdAt: product.createdAt ?? product.updatedAt
  }
  const { rows } = await target.trx.raw<{ rows: Array<{ inserted: boolean }> }>(
    `insert into :schema:.storefront_products as p (version, "productId", "sellerId", title, price, currency, stock, "productVersion", "createdAt")
     values (:version, :productId, :sellerId, :title, :price, :currency, :stock, :productVersion, :createdAt)
     on conflict (version, "productId") do update set
       title = excluded.title, price = excluded.price, currency = excluded.currency, stock = excluded.stock,
       "productVersion" = excluded."productVersion", "createdAt" = least(p."createdAt", excluded."createdAt")
     where p."productVersion" < excluded."productVersion"
     returning (xmax = 0) as inserted`,
    { ...row, schema: target.schema }
  )
  if (rows[0]?.inserted) await countFor(target, product.sellerId, 'productCount')
}

async function applyOrder(target: Target, order: EventPayload<'order.created'>): Promise<void> {
  const inserted = await table(target, 'storefront_orders')
    .insert({ version: target.version, sellerId: order.sellerId, orderId: order.orderId })
    .onConflict(['version', 'sellerId', 'orderId'])
    .ignore()
    .returning('orderId')
  if (inserted.length > 0) await countFor(target, order.sellerId, 'orderCount')
}

/** One more product or order for a seller, whose row may not exist yet (their user event is older than the log). */
async function countFor(target: Target, sellerId: string, column: 'productCount' | 'orderCount'): Promise<void> {
  await table(target, 'storefronts')
    .insert({ version: target.version, sellerId, [column]: 1 })
    .onConflict(['version', 'sellerId'])
    .merge({ [column]: target.trx.raw('?? + 1', [`storefronts.${column}`]) })
}

/**
 * Rewrites the product list of these sellers from their products, once per
 * batch: the newest first, as GET /storefronts/:sellerId shows them, so a
 * read is one row by its key (the cost of a list is paid when it changes).
 */
export async function refreshProductLists(target: Target, sellerIds: string[]): Promise<void> {
  if (sellerIds.length === 0) return
  await target.trx.raw(
    `update :schema:.storefronts s set products = coalesce((
       select jsonb_agg(jsonb_build_object('id', p."productId", 'title', p.title, 'price', p.price, 'currency', p.currency, 'stock', p.stock)
                        order by p."createdAt" desc, p."productId")
       from (select * from :schema:.storefront_products p
             where p.version = s.version and p."sellerId" = s."sellerId"
             order by p."createdAt" desc, p."productId" limit :limit) p), '[]'::jsonb)
     where s.version = :version and s."sellerId" = any(:sellerIds::text[])`,
    { schema: target.schema, version: target.version, sellerIds, limit: STOREFRONT_PRODUCTS }
  )
}

/**
 * The seller whose storefront an entry may change (the user, the product's
 * seller, the order share's seller), read from its body without judging it:
 * what a page cache must drop once the entry is applied. Too many is
 * harmless, so an entry that is skipped still names its seller.
 */
export function sellerOf(entry: StreamMessage): string | undefined {
  const parsed = parseBody(entry)
  if (!parsed.ok || parsed.value === null || typeof parsed.value !== 'object') return undefined
  const body = parsed.value as Record<string, unknown>
  const id = entry.routingKey.startsWith('user.') ? body.userId : body.sellerId
  return typeof id === 'string' ? id : undefined
}
