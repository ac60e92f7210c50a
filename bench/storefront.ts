/**
 * `npm run bench -- storefront`: a storefront read from the read model against
 * the same page computed by joins on the source tables.
 *
 * 1. Sources: SELLERS sellers with PRODUCTS products each in the catalog's
 *    `products` table and ORDERS orders (one to three sellers each) in the
 *    orders service's `orders` and `seller_orders`, written by SQL (the
 *    catalog's and orders' own migrations make the tables); the matching
 *    user.registered, product.created and order.created go to the events
 *    exchange, the storefronts service (a child process, as `npm start` runs
 *    it) projects them from its event log. Timed: the projection's catch-up.
 * 2. Open loop at RATE per second for SECONDS each (bench/lib/open-loop.ts:
 *    each request sent at its slot whatever the ones before it did, and timed
 *    from that slot, so a side that falls behind shows it in its latencies
 *    rather than in a lower rate), with a random seller each time: (a) `GET
 *    /storefronts/:sellerId` over HTTP (64 keep-alive connections), (b) the
 *    service's own read statement on the projection, (c) the same page
 *    computed by joins on the source tables (catalog products, orders'
 *    seller_orders: counts and the 50 newest), (b) and (c) from one pool of
 *    this process (12 connections): p50/p99/max, the rate answered, the CPU
 *    per request (this process, the service's process, PostgreSQL's), and the
 *    ratios (c)/(b) and (c)/(a).
 *    Not autocannon: it keeps a fixed number of connections each waiting for
 *    its answer before the next request, and times from the actual send, so
 *    a slow side lowers its own rate and hides its queue (coordinated
 *    omission); the SQL sides are not HTTP at all.
 *
 * STOREFRONT_BENCH_SELLERS (200), _PRODUCTS (25 per seller), _ORDERS (5,000), _RATE (2,000), _SUSTAINED_RATE (200), _SECONDS (5 each).
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Bus } from '../shared/bus/bus.ts'
import { readEnv } from '../shared/config/env.ts'
import { createKnex, schemaName, type Knex } from '../shared/db/database.ts'
import { migrate, type Migration } from '../shared/db/migrations.ts'
import { dropNamespaceSchemas, Management } from '../shared/testing/index.ts'
import { migrations as catalogMigrations } from '../services/catalog/migrations/index.ts'
import { migrations as orderMigrations } from '../services/orders/migrations/index.ts'
import { StorefrontService } from '../services/storefronts/resources/storefronts/storefronts.class.ts'
import { storefrontFromSources } from '../services/storefronts/test/source-page.ts'
import { intFromEnv } from './lib/env.ts'
import { machineInfo, type MachineInfo } from './lib/machine.ts'
import { HttpPool } from './lib/http-pool.ts'
import { startServiceProcess, type ServiceProcess } from './lib/service-process.ts'
import { openLoop, type OpenLoopResult } from './lib/open-loop.ts'
import { pooled } from './lib/pace.ts'
import { now } from './lib/stats.ts'


type Latency = OpenLoopResult

/** The three reads at one rate, one after the other, each open loop. */
interface SidesRun {
  ratePerSec: number
  http: Latency
  projection: Latency
  joins: Latency
  /** joins p99 / projection p99 (both statements from the same pool) */
  ratioP99: number
  ratioP50: number
  /** joins p99 / the HTTP read's p99 */
  ratioP99Http: number
}

export interface StorefrontBenchmarkResult {
  machine: MachineInfo
  sellers: number
  products: number
  orders: number
  /** events in the log, and the time from the last publish confirmed to the projection caught up with all of them */
  events: number
  publishSeconds: number
  catchUpSeconds: number
  /** at the rate asked for (STOREFRONT_BENCH_RATE), then at one this machine sustains (STOREFRONT_BENCH_SUSTAINED_RATE) */
  runs: SidesRun[]
}

export async function runStorefrontBenchmark(): Promise<StorefrontBenchmarkResult> {
  const sellers = intFromEnv('STOREFRONT_BENCH_SELLERS', 200)
  const perSeller = intFromEnv('STOREFRONT_BENCH_PRODUCTS', 25)
  const orders = intFromEnv('STOREFRONT_BENCH_ORDERS', 5_000)
  const rate = intFromEnv('STOREFRONT_BENCH_RATE', 2_000)
  const seconds = intFromEnv('STOREFRONT_BENCH_SECONDS', 5)
  const namespace = `bench_store_${randomUUID().slice(0, 6)}`
  const env = readEnv({ ...process.env, BAZAAR_NAMESPACE: namespace })
  const management = new Management()
  const db = createKnex(env.databaseUrl, 'public', { min: 0, max: 12 })
  const bus = new Bus({ url: env.amqpUrl, namespace, service: 'bench' })
  let server: ServiceProcess | undefined
  try {
    const machine = await machineInfo(management, db)
    const port = 3900 + Math.floor(Math.random() * 90)
    server = await startServiceProcess('storefronts', 'services/storefronts/index.ts', port, { BAZAAR_NAMESPACE: namespace, STOREFRONTS_PORT: String(port) })
    const sellerIds = Array.from({ length: sellers }, () => randomUUID())
    console.log(`seeding ${sellers} sellers, ${sellers * perSeller} products, ${orders} orders`)
    await seedSources(db, env.databaseUrl, namespace, sellerIds, perSeller, orders)

    await bus.start()
    const publishStart = now()
    const events = await publishSources(db, bus, namespace, sellerIds)
    const publishSeconds = (now() - publishStart) / 1000
    const caughtUpStart = now()
    await caughtUp(db, namespace, sellerIds.length * perSeller)
    const catchUpSeconds = (now() - caughtUpStart) / 1000
    console.log(`${events} events published in ${publishSeconds.toFixed(1)} s, projected ${catchUpSeconds.toFixed(1)} s after the last confirm`)

    const pick = () => sellerIds[Math.floor(Math.random() * sellerIds.length)]!
    const projection = new StorefrontService(db, schemaName(namespace, 'storefronts'))
    const sides = async (ratePerSec: number): Promise<SidesRun> => {
      const total = ratePerSec * seconds
      const pool = new HttpPool(`http://127.0.0.1:${port}`, 64)
      const http = await openLoop({ total, ratePerSec, servicePid: server!.child.pid }, () => pool.send('GET', `/storefronts/${pick()}`))
      pool.close()
      const projected = await openLoop({ total, ratePerSec }, async () => void (await projection.get(pick())))
      const joins = await openLoop({ total, ratePerSec }, async () => void (await storefrontFromSources(db, namespace, pick())))
      return {
        ratePerSec,
        http,
        projection: projected,
        joins,
        ratioP99: round(joins.p99Ms / projected.p99Ms),
        ratioP50: round(joins.p50Ms / projected.p50Ms),
        ratioP99Http: round(joins.p99Ms / http.p99Ms)
      }
    }
    const runs = [await sides(rate), await sides(intFromEnv('STOREFRONT_BENCH_SUSTAINED_RATE', 200))]
    const result: StorefrontBenchmarkResult = {
      machine,
      sellers,
      products: sellers * perSeller,
      orders,
      events,
      publishSeconds: round(publishSeconds),
      catchUpSeconds: round(catchUpSeconds),
      runs
    }
    printResult(result)
    return result
  } finally {
    await server?.stop()
    await bus.stop().catch(() => {})
    await db.destroy()
    await management.deleteNamespace(namespace).catch(() => {})
    await dropNamespaceSchemas(namespace).catch(() => {})
  }
}

/** Catalog products and orders (with each seller's share) written straight into the sources' tables. */
async function seedSources(db: Knex, databaseUrl: string, namespace: string, sellerIds: string[], perSeller: number, orders: number): Promise<void> {
  const catalog = schemaName(namespace, 'catalog')
  const ordering = schemaName(namespace, 'orders')
  await migrateIn(databaseUrl, catalog, catalogMigrations)
  await migrateIn(databaseUrl, ordering, orderMigrations)
  await db.raw(
    `insert into :catalog:.products (id, "sellerId", "parentId", title, description, price, currency, stock, version, "createdAt", "updatedAt")
     select gen_random_uuid(), s.id, null, 'Product ' || n, '', 100 + n, 'EUR', n % 40, 1,
            now() - make_interval(secs => n * 7 + s.i), now() - make_interval(secs => n * 7 + s.i)
     from unnest(:sellers::text[]) with ordinality as s(id, i), generate_series(1, :perSeller) as n`,
    { catalog, sellers: sellerIds, perSeller }
  )
  // each order takes one product of one to three sellers
  await db.raw(
    `with picked as (
       select o, k, (select id from :catalog:.products p where p."sellerId" = (:sellers::text[])[1 + ((o * 7 + k * 13) % :count)] limit 1) as "productId",
              (:sellers::text[])[1 + ((o * 7 + k * 13) % :count)] as "sellerId"
       from generate_series(1, :orders) as o, generate_series(1, 1 + o % 3) as k),
     lines as (select o, jsonb_agg(jsonb_build_object('productId', "productId", 'sellerId', "sellerId", 'title', 'Product', 'unitPrice', 100, 'quantity', 1)) as items,
                      array_agg(distinct "sellerId") as "sellerIds" from picked group by o),
     ids as (select o, gen_random_uuid() as id from generate_series(1, :orders) as o),
     placed as (insert into :ordering:.orders (id, "buyerId", status, items, "sellerIds", total, currency, "createdAt")
                select ids.id, 'bench-buyer', 'created', lines.items, lines."sellerIds", 100 * jsonb_array_length(lines.items), 'EUR', now()
                from ids join lines using (o) returning id, items)
     insert into :ordering:.seller_orders (id, "sellerId", "buyerId", status, items, total, currency, "createdAt")
     select id, line->>'sellerId', 'bench-buyer', 'created', jsonb_agg(line), 100 * count(*), 'EUR', now()
     from placed, jsonb_array_elements(items) as line group by id, line->>'sellerId'`,
    { catalog, ordering, sellers: sellerIds, count: sellerIds.length, orders }
  )
}

/** A service's migrations in its own schema: a pool whose search path is that schema, as the service's own. */
async function migrateIn(databaseUrl: string, schema: string, migrations: Migration[]): Promise<void> {
  const db = createKnex(databaseUrl, schema, { min: 0, max: 1 })
  try {
    await migrate(db, schema, migrations)
  } finally {
    await db.destroy()
  }
}

/** The events the sources would have published for those rows: what the storefront projection is built from. */
async function publishSources(db: Knex, bus: Bus, namespace: string, sellerIds: string[]): Promise<number> {
  const publisher = bus.publisher
  const at = new Date().toISOString()
  await pooled(sellerIds.length, 100, async (i) => {
    const id = sellerIds[i]!
    await publisher.publish('user.registered', { userId: id, email: `seller${i}@bench.example`, name: `Seller ${i}`, role: 'seller', registeredAt: at, version: 1 })
  })
  const products = await db.withSchema(schemaName(namespace, 'catalog')).table('products').select('*')
  await pooled(products.length, 200, async (i) => {
    const p = products[i]!
    await publisher.publish('product.created', {
      productId: p.id, sellerId: p.sellerId, parentId: null, title: p.title, description: '', price: p.price, currency: p.currency, stock: p.stock,
      version: 1, updatedAt: new Date(p.updatedAt).toISOString(), createdAt: new Date(p.createdAt).toISOString()
    })
  })
  const shares = await db.withSchema(schemaName(namespace, 'orders')).table('seller_orders').select('id', 'sellerId', 'items', 'total')
  await pooled(shares.length, 200, async (i) => {
    const s = shares[i]!
    await publisher.publish('order.created', { orderId: s.id, buyerId: randomUUID(), sellerId: s.sellerId, items: s.items, total: Number(s.total), currency: 'EUR', createdAt: at })
  })
  return sellerIds.length + products.length + shares.length
}

/** Waits until the live version holds every product and every seller's orders, as the sources do. */
async function caughtUp(db: Knex, namespace: string, products: number): Promise<void> {
  const schema = schemaName(namespace, 'storefronts')
  const orders = schemaName(namespace, 'orders')
  const deadline = Date.now() + 300_000
  for (;;) {
    const { rows } = await db.raw<{ rows: Array<{ products: number; orders: number; expected: number }> }>(
      `select (select coalesce(sum(s."productCount"), 0)::int from :schema:.storefronts s join :schema:.projections v on v.version = s.version and v.state = 'live') as products,
              (select coalesce(sum(s."orderCount"), 0)::int from :schema:.storefronts s join :schema:.projections v on v.version = s.version and v.state = 'live') as orders,
              (select count(*)::int from :orders:.seller_orders) as expected`,
      { schema, orders }
    )
    const row = rows[0]!
    if (row.products === products && row.orders === row.expected) return
    if (Date.now() > deadline) throw new Error(`projection not caught up after 300 s: ${JSON.stringify(row)}, products expected ${products}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const round = (n: number) => Math.round(n * 100) / 100

function printResult(r: StorefrontBenchmarkResult): void {
  const cpu = (l: Latency) => `${l.cpu.benchProcessMsPerK}${l.cpu.serviceMsPerK === undefined ? '' : ` + service ${l.cpu.serviceMsPerK}`} | ${l.cpu.databaseMsPerK ?? '-'}`
  const row = (name: string, l: Latency) => `| ${name} | ${l.requests} | ${l.offeredPerSec} | ${l.completedPerSec} | ${l.p50Ms} | ${l.p99Ms} | ${l.maxMs} | ${l.errors} | ${cpu(l)} |`
  console.log(`\n${r.sellers} sellers, ${r.products} products, ${r.orders} orders; ${r.events} events projected ${r.catchUpSeconds} s after the last publish`)
  console.log('Open loop: each request timed from its intended send. CPU in ms per 1,000 requests (bench process [+ storefronts service] | PostgreSQL).')
  for (const run of r.runs) {
    console.log(`\nat ${run.ratePerSec} req/s offered`)
    console.log('| read | requests | offered/s | answered/s | p50 ms | p99 ms | max ms | errors | CPU ms/1k (Node) | CPU ms/1k (PG) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    console.log(row('GET /storefronts/:id (HTTP, the service)', run.http))
    console.log(row('projection statement (SQL)', run.projection))
    console.log(row('joins on the source tables (SQL)', run.joins))
    console.log(`joins / projection statement: p99 ${run.ratioP99}x, p50 ${run.ratioP50}x; joins / HTTP read: p99 ${run.ratioP99Http}x`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runStorefrontBenchmark().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    }
  )
}
