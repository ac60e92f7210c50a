import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../../shared/testing/index.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { call as callApi, type JsonRequest } from '../../shared/testing/http.ts'
import { createApp } from './app.ts'
import { createApp as createReference } from '../reference/app.ts'

const ns = uniqueNamespace('catalog')

describe('catalog: sellers and their products', function () {
  let running: RunningApp
  let reference: RunningApp
  let tap: EventTap
  const seller = identity('seller')
  const otherSeller = identity('seller')
  const buyer = identity('buyer')

  const product = (overrides: Record<string, unknown> = {}) => ({
    title: 'Desk lamp',
    description: 'Warm light',
    price: 2_500,
    currency: 'EUR',
    stock: 10,
    ...overrides
  })
  const create = async (owner = seller, overrides: Record<string, unknown> = {}) => {
    const response = await call('POST', '/products', { token: owner.token, body: product(overrides) })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    return response.body
  }

  const call = (method: string, path: string, request?: JsonRequest) => callApi(running.url, method, path, request)

  before(async function () {
    reference = await startApp(createReference(testEnv(ns))) // the countries, currencies and flags it keeps in memory
    running = await startApp(createApp(testEnv(ns)))
    tap = await EventTap.open(ns, ['product.#'])
  })

  after(async function () {
    await tap?.close()
    await running?.stop()
    await reference?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('a seller lists a product: 201 with its server-owned fields, and product.created goes out', async function () {
    const created = await create(seller)
    expect(created).to.include({ sellerId: seller.id, parentId: null, title: 'Desk lamp', price: 2_500, currency: 'EUR', stock: 10, version: 1 })
    expect(created.id).to.match(/^[0-9a-f-]{36}$/)
    expect(new Date(created.createdAt).toISOString()).to.equal(created.createdAt)
    const [event] = await tap.next((e) => e.routingKey === 'product.created' && e.payload.productId === created.id, { what: 'product.created' })
    expect(event!.payload).to.deep.equal({
      productId: created.id, sellerId: seller.id, parentId: null, title: 'Desk lamp', description: 'Warm light',
      price: 2_500, currency: 'EUR', stock: 10, version: 1, updatedAt: created.updatedAt, createdAt: created.createdAt
    })
    expect(event!.appId).to.equal('catalog')
  })

  it("patching a parent's shared fields updates every child, each announced with the parent patch's request id", async function () {
    const parent = await create(seller, { title: 'T-shirt' })
    const small = await create(seller, { title: 'T-shirt S', parentId: parent.id, stock: 3 })
    const large = await create(seller, { title: 'T-shirt L', parentId: parent.id, stock: 4 })
    const requestId = `patch-parent-${randomUUID()}`

    const patched = await call('PATCH', `/products/${parent.id}`, {
      token: seller.token,
      headers: { 'x-request-id': requestId },
      body: { title: 'Organic T-shirt', price: 1_999 }
    })
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200)
    expect(patched.headers.get('x-request-id')).to.equal(requestId)
    expect(patched.body).to.include({ title: 'Organic T-shirt', price: 1_999, version: 2 })

    for (const child of [small, large]) {
      const { body } = await call('GET', `/products/${child.id}`)
      // shared fields follow the parent; the child's own stock does not
      expect(body).to.include({ title: 'Organic T-shirt', description: 'Warm light', price: 1_999, currency: 'EUR', stock: child.stock, version: 2 })
    }

    const updates = await tap.next((e) => e.routingKey === 'product.updated' && e.headers['x-request-id'] === requestId, { count: 3, what: 'product.updated of parent and children' })
    expect(updates.map((e) => e.payload.productId).sort()).to.deep.equal([parent.id, small.id, large.id].sort())
    for (const update of updates) expect(update.payload).to.include({ title: 'Organic T-shirt', price: 1_999, version: 2 })
  })

  it("patching only a parent's own stock leaves its children alone", async function () {
    const parent = await create(seller)
    const child = await create(seller, { parentId: parent.id, title: 'Variant' })
    const requestId = `stock-${randomUUID()}`
    const patched = await call('PATCH', `/products/${parent.id}`, { token: seller.token, headers: { 'x-request-id': requestId }, body: { stock: 99 } })
    expect(patched.status).to.equal(200)
    await tap.next((e) => e.headers['x-request-id'] === requestId, { what: "the parent's product.updated" })
    expect((await call('GET', `/products/${child.id}`)).body).to.include({ title: 'Variant', version: 1 })
  })

  it('versions increase with every change, in the events too', async function () {
    const created = await create(seller)
    for (const price of [100, 200, 300]) {
      expect((await call('PATCH', `/products/${created.id}`, { token: seller.token, body: { price } })).status).to.equal(200)
    }
    const updates = await tap.next((e) => e.routingKey === 'product.updated' && e.payload.productId === created.id, { count: 3, what: 'three updates' })
    expect(updates.map((e) => [e.payload.version, e.payload.price])).to.deep.equal([[2, 100], [3, 200], [4, 300]])
  })

  it("a seller cannot patch another seller's product (403), and the product is unchanged", async function () {
    const mine = await create(seller)
    const refused = await call('PATCH', `/products/${mine.id}`, { token: otherSeller.token, body: { price: 1 } })
    expect(refused.status).to.equal(403)
    expect(refused.body.name).to.equal('Forbidden')
    expect((await call('PATCH', `/products/${mine.id}`, { token: buyer.token, body: { price: 1 } })).status).to.equal(403)
    expect((await call('GET', `/products/${mine.id}`)).body).to.include({ price: 2_500, version: 1 })
  })

  it('only sellers list products; writing needs a token', async function () {
    expect((await call('POST', '/products', { token: buyer.token, body: product() })).status).to.equal(403)
    expect((await call('POST', '/products', { body: product() })).status).to.equal(401)
    expect((await call('POST', '/products', { token: 'not-a-token', body: product() })).status).to.equal(401)
    const mine = await create(seller)
    expect((await call('PATCH', `/products/${mine.id}`, { body: { price: 1 } })).status).to.equal(401)
  })

  it("a child's parent must be one of the same seller's products, and not a child itself", async function () {
    const theirs = await create(otherSeller)
    const notMine = await call('POST', '/products', { token: seller.token, body: product({ parentId: theirs.id }) })
    expect(notMine.status).to.equal(400)
    expect(notMine.body.data).to.have.property('parentId')

    const missing = await call('POST', '/products', { token: seller.token, body: product({ parentId: randomUUID() }) })
    expect(missing.status).to.equal(400)
    expect(missing.body.data).to.have.property('parentId')

    const parent = await create(seller)
    const child = await create(seller, { parentId: parent.id })
    const grandchild = await call('POST', '/products', { token: seller.token, body: product({ parentId: child.id }) })
    expect(grandchild.status).to.equal(400)
  })

  it("anyone reads products, and a seller's storefront lists only theirs", async function () {
    const storeOwner = identity('seller')
    const a = await create(storeOwner, { title: 'A' })
    const b = await create(storeOwner, { title: 'B' })
    await create(otherSeller, { title: 'elsewhere' })
    const listed = await call('GET', `/products?sellerId=${storeOwner.id}`)
    expect(listed.status).to.equal(200)
    expect(listed.body).to.include({ total: 2, skip: 0 })
    expect(listed.body.data.map((p: { id: string }) => p.id).sort()).to.deep.equal([a.id, b.id].sort())
    expect((await call('GET', `/products/${a.id}`)).body).to.include({ id: a.id, title: 'A' })
    expect((await call('GET', `/products/${randomUUID()}`)).status).to.equal(404)
  })

  describe('bad input answers 4xx naming what is wrong, never 500', function () {
    let existing: { id: string }
    before(async function () {
      existing = await create(seller)
    })

    const cases: Array<{ name: string; method: string; path: () => string; body?: unknown; as?: 'buyer' | 'none'; status: number; field?: string }> = [
      { name: 'missing title', method: 'POST', path: () => '/products', body: { description: 'x', price: 1, currency: 'EUR', stock: 1 }, status: 400, field: 'title' },
      { name: 'missing every field', method: 'POST', path: () => '/products', body: {}, status: 400, field: 'price' },
      { name: 'price as a string', method: 'POST', path: () => '/products', body: product({ price: '10' }), status: 400, field: 'price' },
      { name: 'negative price', method: 'POST', path: () => '/products', body: product({ price: -1 }), status: 400, field: 'price' },
      { name: 'fractional price', method: 'POST', path: () => '/products', body: product({ price: 9.99 }), status: 400, field: 'price' },
      { name: 'price beyond the column', method: 'POST', path: () => '/products', body: product({ price: 2 ** 40 }), status: 400, field: 'price' },
      { name: 'negative stock', method: 'POST', path: () => '/products', body: product({ stock: -3 }), status: 400, field: 'stock' },
      { name: 'stock as null', method: 'POST', path: () => '/products', body: product({ stock: null }), status: 400, field: 'stock' },
      { name: 'currency of 4 letters', method: 'POST', path: () => '/products', body: product({ currency: 'EURO' }), status: 400, field: 'currency' },
      { name: 'currency in digits', method: 'POST', path: () => '/products', body: product({ currency: '123' }), status: 400, field: 'currency' },
      { name: 'title as a number', method: 'POST', path: () => '/products', body: product({ title: 42 }), status: 400, field: 'title' },
      { name: 'empty title', method: 'POST', path: () => '/products', body: product({ title: '' }), status: 400, field: 'title' },
      { name: 'unknown field', method: 'POST', path: () => '/products', body: product({ color: 'red' }), status: 400, field: 'color' },
      { name: 'a server-owned field', method: 'POST', path: () => '/products', body: product({ sellerId: randomUUID() }), status: 400, field: 'sellerId' },
      { name: 'parentId not a uuid', method: 'POST', path: () => '/products', body: product({ parentId: 'abc' }), status: 400, field: 'parentId' },
      { name: 'an array of products', method: 'POST', path: () => '/products', body: [product()], status: 400 },
      { name: 'a JSON string', method: 'POST', path: () => '/products', body: '"lamp"', status: 400 },
      { name: 'malformed JSON', method: 'POST', path: () => '/products', body: '{"title": ', status: 400 },
      { name: 'patch with nothing', method: 'PATCH', path: () => `/products/${existing.id}`, body: {}, status: 400 },
      { name: 'patch a negative price', method: 'PATCH', path: () => `/products/${existing.id}`, body: { price: -5 }, status: 400, field: 'price' },
      { name: 'patch the seller', method: 'PATCH', path: () => `/products/${existing.id}`, body: { sellerId: randomUUID() }, status: 400, field: 'sellerId' },
      { name: 'patch the version', method: 'PATCH', path: () => `/products/${existing.id}`, body: { version: 7 }, status: 400, field: 'version' },
      { name: 'patch the parent', method: 'PATCH', path: () => `/products/${existing.id}`, body: { parentId: null }, status: 400, field: 'parentId' },
      { name: 'patch stock as text', method: 'PATCH', path: () => `/products/${existing.id}`, body: { stock: 'many' }, status: 400, field: 'stock' },
      { name: 'patch a non-uuid id', method: 'PATCH', path: () => '/products/42', body: { price: 1 }, status: 404 },
      { name: 'patch an unknown product', method: 'PATCH', path: () => `/products/${randomUUID()}`, body: { price: 1 }, status: 404 },
      { name: 'patch without an id', method: 'PATCH', path: () => '/products', body: { price: 1 }, status: 405 },
      { name: 'get a non-uuid id', method: 'GET', path: () => '/products/not-a-uuid', status: 404, as: 'none' },
      { name: 'list by a non-uuid seller', method: 'GET', path: () => '/products?sellerId=abc', status: 400, as: 'none', field: 'sellerId' },
      { name: 'list with an unknown filter', method: 'GET', path: () => '/products?color=red', status: 400, as: 'none', field: 'color' },
      { name: 'list with a negative limit', method: 'GET', path: () => '/products?$limit=-1', status: 400, as: 'none', field: '$limit' },
      { name: 'delete is not offered', method: 'DELETE', path: () => `/products/${existing.id}`, status: 405 },
      { name: 'put is not offered', method: 'PUT', path: () => `/products/${existing.id}`, body: product(), status: 405 }
    ]

    for (const c of cases) {
      it(`${c.method} ${c.name}: ${c.status}`, async function () {
        const token = c.as === 'none' ? undefined : c.as === 'buyer' ? buyer.token : seller.token
        const response = await call(c.method, c.path(), { token, body: c.body })
        expect(response.status, JSON.stringify(response.body)).to.equal(c.status)
        expect(response.body).to.include.keys('name', 'message', 'code')
        if (c.field) expect(JSON.stringify(response.body.data)).to.include(c.field)
      })
    }
  })
})
