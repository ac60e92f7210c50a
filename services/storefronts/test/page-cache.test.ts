import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { get } from 'node:http'
import { Bus } from '../../../shared/bus/bus.ts'
import { TestApps } from '../../../shared/testing/apps.ts'
import { testEnv } from '../../../shared/testing/env.ts'
import { call } from '../../../shared/testing/http.ts'
import { uniqueNamespace } from '../../../shared/testing/namespace.ts'
import type { RunningApp } from '../../../shared/testing/server.ts'
import { waitFor } from '../../../shared/testing/wait.ts'
import { createApp as createStorefronts } from '../app.ts'
import { PageCache, type Page } from '../pages/page-cache.ts'
import { pageCacheOf } from '../pages/pages.ts'
import { storefrontSupervisor } from '../projection/projection.ts'
import { listVersions, requestRebuild } from '../projection/versions.ts'
import type { Storefront } from '../resources/storefronts/storefronts.schema.ts'

/**
 * The page cache of GET /storefronts/:sellerId, on two instances. Entries
 * live 60 s here, so only an invalidation (the projector's, a NOTIFY, a newer
 * live version) can make a page change in time: a test passes only if they work.
 */
describe('storefronts: the page cache answers from memory, never older than what the projection committed', function () {
  const ns = uniqueNamespace('storefront-pages')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  let one: RunningApp
  let two: RunningApp
  let tap: Bus
  const settings = { pollIntervalMs: 500, batchSize: 20, cacheTtlMs: 60_000 }

  const page = (app: RunningApp, sellerId: string, headers: Record<string, string> = {}) =>
    call<Storefront>(app.url, 'GET', `/storefronts/${sellerId}`, { headers })
  const seller = async (name: string) => {
    const id = randomUUID()
    await tap.publisher.publish('user.registered', { userId: id, email: `${id}@example.com`, name, role: 'seller', registeredAt: new Date().toISOString(), version: 1 })
    return id
  }
  const product = (sellerId: string, productId: string, version: number, stock: number) => {
    const at = new Date(Date.UTC(2026, 0, 1)).toISOString()
    return tap.publisher.publish(version === 1 ? 'product.created' : 'product.updated', {
      productId, sellerId, parentId: null, title: 'Lamp', description: '', price: 1_000, currency: 'EUR', stock, version, updatedAt: at, createdAt: at
    })
  }
  const stockOf = (p: Page | undefined) => (p ? (JSON.parse(p.body) as Storefront).products[0]?.stock : undefined)
  const stockOn = async (app: RunningApp, sellerId: string) => (await page(app, sellerId)).body.products?.[0]?.stock

  before(async function () {
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    await tap.start()
    // one after the other: the second finds the schema migrated
    one = await apps.start(createStorefronts(env, settings))
    two = await apps.start(createStorefronts(env, settings))
  })

  after(async function () {
    await tap?.stop()
    await apps.close()
  })

  it('answers a page read once from memory, with an ETag, and 304 to If-None-Match', async function () {
    const id = await seller('Cache Seller')
    await product(id, randomUUID(), 1, 5)
    const first = await waitFor(async () => {
      const answer = await page(one, id)
      return answer.status === 200 && answer.body.productCount === 1 ? answer : undefined
    }, { what: 'the storefront' })
    const etag = first.headers.get('etag')
    expect(etag).to.match(/^"[\w-]{27}"$/)
    expect(first.headers.get('content-type')).to.equal('application/json; charset=utf-8')
    const cache = pageCacheOf(one.app)
    // from memory (once the NOTIFY of the last commit, which drops the page again, has come back)
    await waitFor(async () => {
      const hits = cache.hits
      const again = await page(one, id)
      expect(again.body).to.deep.equal(first.body)
      expect(again.headers.get('etag')).to.equal(etag)
      return cache.hits === hits + 1
    }, { what: 'a page answered from memory' })
    // (node:http: fetch marks a request with If-None-Match `cache-control: no-cache`, which asks for the whole body)
    expect(await statusOf(`${one.url}/storefronts/${id}`, { 'if-none-match': etag! })).to.equal(304)
    expect(await statusOf(`${one.url}/storefronts/${id}`, { 'if-none-match': '"another"' })).to.equal(200)
    // a query goes through Feathers as before: $select applied, anything else refused
    expect((await call(one.url, 'GET', `/storefronts/${id}?$select=name`)).body).to.deep.equal({ name: 'Cache Seller' })
    expect((await call(one.url, 'GET', `/storefronts/${id}?color=red`)).status).to.equal(400)
    // no storefront: the same 404 as Feathers answers
    const unknown = randomUUID()
    const missing = await page(one, unknown)
    expect(missing.status).to.equal(404)
    expect(missing.body).to.deep.equal((await call(one.url, 'GET', `/storefronts/${unknown}?$select=name`)).body)
  })

  it('shows an update within 1 s on both instances, their pages cached before it', async function () {
    const id = await seller('Two Instance Seller')
    const productId = randomUUID()
    await product(id, productId, 1, 10)
    for (const app of [one, two]) await waitFor(async () => (await stockOn(app, id)) === 10, { what: 'the first page on each instance' })
    expect(pageCacheOf(one.app).size).to.be.above(0)
    expect(pageCacheOf(two.app).size).to.be.above(0)
    for (let version = 2; version <= 6; version++) {
      const sent = Date.now()
      await product(id, productId, version, 10 + version)
      await Promise.all([one, two].map((app, i) =>
        waitFor(async () => (await stockOn(app, id)) === 10 + version, { timeoutMs: 1_000, intervalMs: 10, what: `version ${version} on instance ${i + 1} within 1 s` })))
      expect(Date.now() - sent).to.be.below(1_000)
    }
  })

  it("drops a page within 1 s on an instance whose own projector is stopped: the NOTIFY of another instance's commit", async function () {
    const id = await seller('Notified Seller')
    const productId = randomUUID()
    await product(id, productId, 1, 1)
    await waitFor(async () => (await stockOn(two, id)) === 1, { what: 'the page on instance 2' })
    await storefrontSupervisor(two.app).stop()
    try {
      for (let version = 2; version <= 4; version++) {
        const sent = Date.now()
        await product(id, productId, version, version)
        await waitFor(async () => (await stockOn(two, id)) === version, { timeoutMs: 1_000, intervalMs: 10, what: `version ${version} on instance 2 within 1 s` })
        expect(Date.now() - sent).to.be.below(1_000)
      }
    } finally {
      await storefrontSupervisor(two.app).start()
    }
  })

  it("never answers an older page once this instance's projector has committed past the change, with reads racing every commit", async function () {
    // One instance alone, so its projector is the one that commits each change (the other's is stopped here).
    await storefrontSupervisor(two.app).stop()
    try {
      const id = await seller('Racing Seller')
      const productId = randomUUID()
      await product(id, productId, 1, 0)
      await waitFor(async () => (await stockOn(one, id)) === 0, { what: 'the first page' })
      let appliedUpTo = -1
      // the page this instance would answer at the very moment its projector reports a commit (no NOTIFY can have come yet)
      const atCommit: Array<{ position: number; page: Promise<Page | undefined> }> = []
      const cache = pageCacheOf(one.app)
      const onApplied = (row: { position: number; state: string }) => {
        if (row.state !== 'live') return
        appliedUpTo = Math.max(appliedUpTo, row.position)
        atCommit.push({ position: row.position, page: cache.page(id) })
      }
      const supervisor = storefrontSupervisor(one.app)
      supervisor.on('applied', onApplied)
      // readers that keep reading, so that reads start before a commit and end after its invalidation
      let reading = true
      const readers = Array.from({ length: 4 }, async () => {
        while (reading) await page(one, id)
      })
      const db = one.app.get('db')
      const schema = one.app.get('schema')
      try {
        for (let version = 2; version <= 30; version++) {
          await product(id, productId, version, version)
          // committed: the live row holds it; then this instance's projector has reported a commit at least that far
          const position = await waitFor(async () => {
            const row = await db.withSchema(schema).table('storefront_products as p')
              .join('projections as v', function () { this.on('v.version', 'p.version').andOnVal('v.state', 'live') })
              .where('p.productId', productId).first('p.productVersion', 'v.position')
            return row && row.productVersion >= version ? Number(row.position) : undefined
          }, { what: `version ${version} committed` })
          await waitFor(() => appliedUpTo >= position, { what: `the projector's commit at ${position}` })
          const first = atCommit.find((c) => c.position >= position)!
          expect(stockOf(await first.page), `the page as the commit of version ${version} was reported`).to.equal(version)
          expect(await stockOn(one, id), `the page right after version ${version} was committed`).to.equal(version)
        }
      } finally {
        reading = false
        await Promise.all(readers)
        supervisor.off('applied', onApplied)
      }
    } finally {
      await storefrontSupervisor(two.app).start()
    }
  })

  it("a rebuild's swap drops every cached page on both instances: the pages after it are of the new version", async function () {
    const id = await seller('Rebuild Seller')
    const productId = randomUUID()
    await product(id, productId, 1, 3)
    for (const app of [one, two]) await waitFor(async () => (await stockOn(app, id)) === 3, { what: 'the page on each instance' })
    const before = await page(one, id)
    const versionOf = async (app: RunningApp) => ((await pageCacheOf(app.app).page(id)) as Page).version
    const live = (await listVersions(one.app.get('db'), one.app.get('schema'))).find((v) => v.state === 'live')!
    expect(await versionOf(one)).to.equal(live.version)

    // every answer during the rebuild is the whole page, as it was
    let reading = true
    const wrong: unknown[] = []
    const reader = (async () => {
      while (reading) {
        for (const app of [one, two]) {
          const answer = await page(app, id)
          if (answer.status !== 200 || JSON.stringify(answer.body) !== JSON.stringify(before.body)) wrong.push(answer.body)
        }
      }
    })()
    const rebuild = await requestRebuild(one.app.get('db'), one.app.get('schema'))
    try {
      await waitFor(async () => (await listVersions(one.app.get('db'), one.app.get('schema'))).find((v) => v.version === rebuild.version)?.state === 'live', {
        timeoutMs: 30_000, what: 'the rebuild live'
      })
      const swappedAt = Date.now()
      for (const app of [one, two]) await waitFor(async () => (await versionOf(app)) === rebuild.version, { timeoutMs: 1_000, intervalMs: 10, what: 'a page of the new version' })
      expect(Date.now() - swappedAt).to.be.below(1_000)
    } finally {
      reading = false
      await reader
    }
    expect(wrong).to.deep.equal([])
    expect((await page(two, id)).body).to.deep.equal(before.body)
  })
})

function statusOf(url: string, headers: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    }).on('error', reject)
  })
}

describe('PageCache: a read that started before an invalidation never leaves its page behind', function () {
  const storefront = (stock: number): Storefront => ({ sellerId: 's', name: 'S', productCount: 1, orderCount: 0, products: [{ id: 'p', title: 'T', price: 1, currency: 'EUR', stock }] })

  it('keeps the page of a read only if no invalidation of its seller or of everything came after the read began', async function () {
    let stock = 1
    const pending: Array<() => void> = []
    const cache = new PageCache({ ttlMs: 60_000, maxEntries: 100 })
    // the read answers what the projection held when it began, and finishes when the test says so
    cache.attach(async () => {
      const seen = stock
      await new Promise<void>((resolve) => pending.push(resolve))
      return { storefront: storefront(seen), version: 1 }
    })
    const stockOf = (p: Page | undefined) => (JSON.parse(p!.body) as Storefront).products[0]!.stock

    const slow = cache.page('s')
    stock = 2 // a commit...
    cache.invalidate(['s']) // ...and its invalidation, while the read runs
    pending.shift()!()
    expect(stockOf(await slow)).to.equal(1) // its own caller asked before the commit
    const next = cache.page('s')
    expect(pending).to.have.length(1) // not from memory: read again
    pending.shift()!()
    expect(stockOf(await next)).to.equal(2)
    expect(stockOf(await cache.page('s'))).to.equal(2) // this one is kept
    expect(pending).to.have.length(0)

    const beforeClear = cache.page('t')
    cache.clear()
    pending.shift()!()
    await beforeClear
    void cache.page('t')
    expect(pending).to.have.length(1) // a clear after the read began: not kept either
    pending.shift()!()
  })
})
