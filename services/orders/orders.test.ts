import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import amqp from 'amqplib'
import { dropNamespaceSchemas, identity, Management, nextEvent, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp, type TestIdentity } from '../../shared/testing/index.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { call as callApi, type JsonRequest } from '../../shared/testing/http.ts'
import { names } from '../../shared/bus/names.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import { createApp as createCatalog } from '../catalog/app.ts'
import { createApp } from './app.ts'
import { createApp as createReference } from '../reference/app.ts'

const ns = uniqueNamespace('orders')

describe('orders: buyers order from the projection of the catalog', function () {
  let catalog: RunningApp
  let reference: RunningApp
  let orders: RunningApp
  let tap: EventTap
  const sellerA = identity('seller', 'Ada Seller')
  const sellerB = identity('seller', 'Bo Seller')
  const sellerC = identity('seller', 'Cy Seller')
  const buyer = identity('buyer', 'Bea Buyer')
  const otherBuyer = identity('buyer', 'Ole Buyer')

  const shop = (method: string, path: string, request?: JsonRequest) => callApi(catalog.url, method, path, request)
  const api = (method: string, path: string, request?: JsonRequest) => callApi(orders.url, method, path, request)
  const projection = () => orders.app.get('db').withSchema(orders.app.get('schema')).table('products')

  /** Waits until orders has projected this version of the product. */
  const projected = (productId: string, version = 1) =>
    waitFor(async () => (await projection().where({ productId }).where('version', '>=', version).first()) as { price: number; stock: number; sold: number } | undefined, {
      what: `product ${productId} v${version} in the orders projection`
    })

  /** A product listed in the catalog and seen by orders. */
  const listed = async (seller: TestIdentity, fields: Record<string, unknown> = {}) => {
    const response = await shop('POST', '/products', {
      token: seller.token,
      body: { title: `${seller.name}'s goods`, description: '', price: 1_000, currency: 'EUR', stock: 10, ...fields }
    })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    await projected(response.body.id)
    return response.body as { id: string; title: string; price: number }
  }
  const order = async (who: TestIdentity, items: Array<{ productId: string; quantity: number }>, headers?: Record<string, string>) => {
    const response = await api('POST', '/orders', { token: who.token, body: { items }, headers })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    return response.body
  }

  before(async function () {
    reference = await startApp(createReference(testEnv(ns))) // the countries, currencies and flags it keeps in memory
    catalog = await startApp(createCatalog(testEnv(ns)))
    orders = await startApp(createApp(testEnv(ns)))
    tap = await EventTap.open(ns, ['order.created', 'claim.opened'])
  })

  after(async function () {
    await tap?.close()
    await orders?.stop()
    await catalog?.stop()
    await reference?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it("an order with items of two sellers: 201 priced from the projection, and one order.created per seller with only that seller's lines", async function () {
    const lamp = await listed(sellerA, { title: 'Lamp', price: 2_500 })
    const bulb = await listed(sellerA, { title: 'Bulb', price: 300 })
    const rug = await listed(sellerB, { title: 'Rug', price: 9_900 })
    const requestId = `order-${randomUUID()}`

    const placed = await order(buyer, [
      { productId: lamp.id, quantity: 1 },
      { productId: rug.id, quantity: 2 },
      { productId: bulb.id, quantity: 4 }
    ], { 'x-request-id': requestId })
    expect(placed).to.include({ buyerId: buyer.id, status: 'created', total: 2_500 + 2 * 9_900 + 4 * 300, currency: 'EUR' })
    expect(placed).to.have.all.keys('id', 'buyerId', 'status', 'items', 'total', 'currency', 'createdAt', 'shipTo')
    expect(placed.items).to.deep.equal([
      { productId: lamp.id, sellerId: sellerA.id, title: 'Lamp', unitPrice: 2_500, quantity: 1 },
      { productId: rug.id, sellerId: sellerB.id, title: 'Rug', unitPrice: 9_900, quantity: 2 },
      { productId: bulb.id, sellerId: sellerA.id, title: 'Bulb', unitPrice: 300, quantity: 4 }
    ])

    const events = await tap.next((e) => e.routingKey === 'order.created' && e.payload.orderId === placed.id, { count: 2, what: 'order.created' })
    expect(events).to.have.length(2)
    const bySeller = Object.fromEntries(events.map((e) => [e.payload.sellerId, e]))
    expect(bySeller[sellerA.id]!.payload).to.deep.equal({
      orderId: placed.id, buyerId: buyer.id, sellerId: sellerA.id, currency: 'EUR', createdAt: placed.createdAt,
      items: [placed.items[0], placed.items[2]], total: 2_500 + 4 * 300
    })
    expect(bySeller[sellerB.id]!.payload).to.deep.equal({
      orderId: placed.id, buyerId: buyer.id, sellerId: sellerB.id, currency: 'EUR', createdAt: placed.createdAt,
      items: [placed.items[1]], total: 2 * 9_900
    })
    for (const event of events) {
      expect(event.headers['x-request-id']).to.equal(requestId)
      expect(event.appId).to.equal('orders')
    }
    // the projected stock is reserved until the order is paid or cancelled
    expect(await projected(bulb.id)).to.include({ reserved: 4, sold: 0 })
  })

  it("a buyer reads their own orders and cannot read another buyer's", async function () {
    const mug = await listed(sellerA, { title: 'Mug' })
    const mine = await order(buyer, [{ productId: mug.id, quantity: 1 }])
    const theirs = await order(otherBuyer, [{ productId: mug.id, quantity: 1 }])

    expect((await api('GET', `/orders/${mine.id}`, { token: buyer.token })).body).to.deep.equal(mine)
    const refused = await api('GET', `/orders/${theirs.id}`, { token: buyer.token })
    expect(refused.status).to.equal(403)
    expect(refused.body).to.not.have.property('items')

    const list = await api('GET', '/orders', { token: buyer.token })
    expect(list.status).to.equal(200)
    const ids = list.body.data.map((o: { id: string }) => o.id)
    expect(ids).to.include(mine.id).and.not.include(theirs.id)
    expect(list.body.data.every((o: { buyerId: string }) => o.buyerId === buyer.id)).to.equal(true)
    expect((await api('GET', '/orders')).status).to.equal(401)
  })

  it('a seller sees only the orders with their items, and in them only their own lines', async function () {
    const seller = identity('seller')
    const vase = await listed(seller, { title: 'Vase', price: 4_000 })
    const frame = await listed(sellerB, { title: 'Frame', price: 1_500 })
    const mixed = await order(buyer, [{ productId: vase.id, quantity: 2 }, { productId: frame.id, quantity: 1 }])
    const notTheirs = await order(buyer, [{ productId: frame.id, quantity: 1 }])

    const seen = await api('GET', `/orders/${mixed.id}`, { token: seller.token })
    expect(seen.status).to.equal(200)
    expect(seen.body.items).to.deep.equal([{ productId: vase.id, sellerId: seller.id, title: 'Vase', unitPrice: 4_000, quantity: 2 }])
    expect(seen.body.total).to.equal(8_000)
    expect(seen.body).to.not.have.property('sellerIds')

    expect((await api('GET', `/orders/${notTheirs.id}`, { token: seller.token })).status).to.equal(403)
    expect((await api('GET', `/orders/${mixed.id}`, { token: sellerC.token })).status).to.equal(403)

    const list = await api('GET', '/orders', { token: seller.token })
    expect(list.status).to.equal(200)
    expect(list.body.total).to.equal(1)
    expect(list.body.data.map((o: { id: string }) => o.id)).to.deep.equal([mixed.id])
    expect(list.body.data[0].items.map((l: { sellerId: string }) => l.sellerId)).to.deep.equal([seller.id])
    expect((await api('POST', '/orders', { token: seller.token, body: { items: [{ productId: frame.id, quantity: 1 }] } })).status).to.equal(403)
  })

  it('the projection follows product.updated: a new price is what the next order pays', async function () {
    const chair = await listed(sellerA, { title: 'Chair', price: 5_000 })
    const patched = await shop('PATCH', `/products/${chair.id}`, { token: sellerA.token, body: { price: 4_200, title: 'Oak chair' } })
    expect(patched.status).to.equal(200)
    expect((await projected(chair.id, 2)).price).to.equal(4_200)
    const placed = await order(buyer, [{ productId: chair.id, quantity: 1 }])
    expect(placed.items[0]).to.include({ title: 'Oak chair', unitPrice: 4_200 })
    expect(placed.total).to.equal(4_200)
  })

  it('an event older than the projection changes nothing, and a redelivered one is applied once', async function () {
    const table = await listed(sellerA, { title: 'Table', price: 20_000, stock: 5 })
    expect((await shop('PATCH', `/products/${table.id}`, { token: sellerA.token, body: { price: 18_000 } })).status).to.equal(200)
    await projected(table.id, 2)

    const consumer = orders.app.get('bus').consumers[0] as Consumer
    const connection = await amqp.connect(testEnv(ns).amqpUrl)
    try {
      const channel = await connection.createConfirmChannel()
      const stale = { productId: table.id, sellerId: sellerA.id, parentId: null, title: 'Table', description: '', price: 1, currency: 'EUR', stock: 5, version: 1, updatedAt: new Date().toISOString() }
      const messageId = randomUUID()
      for (let i = 0; i < 2; i++) {
        const handled = nextEvent<{ id: string }>(consumer, 'handled', { filter: (e) => e.id === messageId })
        channel.publish(names.eventsExchange(ns), 'product.updated', Buffer.from(JSON.stringify(stale)), { messageId, contentType: 'application/json', type: 'product.updated' })
        await channel.waitForConfirms()
        await handled
      }
    } finally {
      await connection.close()
    }
    expect(await projected(table.id, 2)).to.include({ price: 18_000 })
  })

  it('two orders cannot sell more than the projected stock', async function () {
    const lastOnes = await listed(sellerB, { title: 'Limited print', stock: 5 })
    const attempts = await Promise.all([buyer, otherBuyer].map((who) => api('POST', '/orders', { token: who.token, body: { items: [{ productId: lastOnes.id, quantity: 3 }] } })))
    expect(attempts.map((r) => r.status).sort()).to.deep.equal([201, 409])
    const refused = attempts.find((r) => r.status === 409)!
    expect(refused.body.data.items).to.deep.equal([{ index: 0, productId: lastOnes.id, message: 'not enough stock', requested: 3, available: 2 }])
    // the rest can still be bought, and nothing beyond
    await order(buyer, [{ productId: lastOnes.id, quantity: 2 }])
    expect((await api('POST', '/orders', { token: buyer.token, body: { items: [{ productId: lastOnes.id, quantity: 1 }] } })).status).to.equal(409)
  })

  it("the order's buyer opens a claim: 201 and claim.opened; nobody else can", async function () {
    const kettle = await listed(sellerA, { title: 'Kettle' })
    const placed = await order(buyer, [{ productId: kettle.id, quantity: 1 }])
    const requestId = `claim-${randomUUID()}`
    const claim = await api('POST', '/claims', { token: buyer.token, body: { orderId: placed.id, reason: 'Arrived dented' }, headers: { 'x-request-id': requestId } })
    expect(claim.status, JSON.stringify(claim.body)).to.equal(201)
    expect(claim.body).to.include({ orderId: placed.id, buyerId: buyer.id, reason: 'Arrived dented', status: 'open' })
    const [event] = await tap.next((e) => e.routingKey === 'claim.opened' && e.payload.orderId === placed.id, { what: 'claim.opened' })
    expect(event!.payload).to.deep.equal({ claimId: claim.body.id, orderId: placed.id, buyerId: buyer.id, reason: 'Arrived dented', openedAt: claim.body.openedAt })
    expect(event!.headers['x-request-id']).to.equal(requestId)

    expect((await api('POST', '/claims', { token: otherBuyer.token, body: { orderId: placed.id, reason: 'mine too' } })).status).to.equal(403)
    expect((await api('POST', '/claims', { token: sellerA.token, body: { orderId: placed.id, reason: 'seller' } })).status).to.equal(403)
    expect((await api('POST', '/claims', { body: { orderId: placed.id, reason: 'anon' } })).status).to.equal(401)
  })

  describe('bad input answers 4xx naming what is wrong, never 500', function () {
    let eur: { id: string }
    let usd: { id: string }
    let placed: { id: string }
    before(async function () {
      eur = await listed(sellerA, { title: 'Euro thing', stock: 3 })
      usd = await listed(sellerB, { title: 'Dollar thing', currency: 'USD' })
      placed = await order(buyer, [{ productId: eur.id, quantity: 1 }])
    })

    const unknownId = randomUUID()
    const cases: Array<{ name: string; method: string; path: string | (() => string); body?: unknown | (() => unknown); as?: 'seller' | 'none'; status: number; mentions?: string | (() => string) }> = [
      { name: 'no body', method: 'POST', path: '/orders', status: 400, mentions: 'body' },
      { name: 'no items', method: 'POST', path: '/orders', body: {}, status: 400, mentions: 'items' },
      { name: 'empty items', method: 'POST', path: '/orders', body: { items: [] }, status: 400, mentions: 'items' },
      { name: 'items not an array', method: 'POST', path: '/orders', body: { items: 'lamp' }, status: 400, mentions: 'items' },
      { name: 'an unknown field', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }], coupon: 'FREE' }), status: 400, mentions: 'coupon' },
      { name: 'an unknown field in an item', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1, unitPrice: 1 }] }), status: 400, mentions: 'unitPrice' },
      { name: 'a buyer-chosen total', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }], total: 0 }), status: 400, mentions: 'total' },
      { name: 'missing quantity', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id }] }), status: 400, mentions: 'quantity' },
      { name: 'quantity as a string', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: '1' }] }), status: 400, mentions: 'quantity' },
      { name: 'zero quantity', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 0 }] }), status: 400, mentions: 'quantity' },
      { name: 'negative quantity', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: -2 }] }), status: 400, mentions: 'quantity' },
      { name: 'fractional quantity', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1.5 }] }), status: 400, mentions: 'quantity' },
      { name: 'quantity above stock', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 3 }] }), status: 409, mentions: () => eur.id },
      { name: 'huge quantity', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1e12 }] }), status: 400, mentions: 'quantity' },
      { name: 'productId not a uuid', method: 'POST', path: '/orders', body: { items: [{ productId: 'lamp', quantity: 1 }] }, status: 400, mentions: 'productId' },
      { name: 'productId as a number', method: 'POST', path: '/orders', body: { items: [{ productId: 7, quantity: 1 }] }, status: 400, mentions: 'productId' },
      { name: 'an unknown product', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }, { productId: unknownId, quantity: 1 }] }), status: 400, mentions: unknownId },
      { name: 'the same product twice', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }, { productId: eur.id, quantity: 1 }] }), status: 400, mentions: () => eur.id },
      { name: 'two currencies', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }, { productId: usd.id, quantity: 1 }] }), status: 400, mentions: 'USD' },
      { name: 'an array body', method: 'POST', path: '/orders', body: () => [{ items: [{ productId: eur.id, quantity: 1 }] }], status: 400 },
      { name: 'malformed JSON', method: 'POST', path: '/orders', body: '{"items": [', status: 400 },
      { name: 'a seller ordering', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }] }), as: 'seller', status: 403 },
      { name: 'no token', method: 'POST', path: '/orders', body: () => ({ items: [{ productId: eur.id, quantity: 1 }] }), as: 'none', status: 401 },
      { name: 'get a non-uuid id', method: 'GET', path: '/orders/123', status: 404 },
      { name: 'get an unknown order', method: 'GET', path: `/orders/${unknownId}`, status: 404 },
      { name: 'list with an unknown filter', method: 'GET', path: '/orders?buyerId=someone', status: 400, mentions: 'buyerId' },
      { name: 'list with a bad status', method: 'GET', path: '/orders?status=shipped', status: 400, mentions: 'status' },
      { name: 'patch to anything but cancelled', method: 'PATCH', path: () => `/orders/${placed.id}`, body: { status: 'paid' }, status: 400, mentions: 'status' },
      { name: 'patch by a seller', method: 'PATCH', path: () => `/orders/${placed.id}`, body: { status: 'cancelled' }, as: 'seller', status: 403 },
      { name: 'delete is not offered', method: 'DELETE', path: () => `/orders/${placed.id}`, status: 405 },
      { name: 'claim without a reason', method: 'POST', path: '/claims', body: () => ({ orderId: placed.id }), status: 400, mentions: 'reason' },
      { name: 'claim with an empty reason', method: 'POST', path: '/claims', body: () => ({ orderId: placed.id, reason: '' }), status: 400, mentions: 'reason' },
      { name: 'claim with a numeric reason', method: 'POST', path: '/claims', body: () => ({ orderId: placed.id, reason: 5 }), status: 400, mentions: 'reason' },
      { name: 'claim on a non-uuid order', method: 'POST', path: '/claims', body: { orderId: 'abc', reason: 'x' }, status: 400, mentions: 'orderId' },
      { name: 'claim on an unknown order', method: 'POST', path: '/claims', body: { orderId: unknownId, reason: 'x' }, status: 400, mentions: 'orderId' },
      { name: 'claim with an unknown field', method: 'POST', path: '/claims', body: () => ({ orderId: placed.id, reason: 'x', refund: 100 }), status: 400, mentions: 'refund' },
      { name: 'claim with a chosen status', method: 'POST', path: '/claims', body: () => ({ orderId: placed.id, reason: 'x', status: 'closed' }), status: 400, mentions: 'status' },
      { name: 'claims are not listed', method: 'GET', path: '/claims', status: 405 }
    ]

    for (const c of cases) {
      it(`${c.method} ${c.name}: ${c.status}`, async function () {
        const token = c.as === 'none' ? undefined : c.as === 'seller' ? sellerA.token : buyer.token
        const path = typeof c.path === 'function' ? c.path() : c.path
        const body = typeof c.body === 'function' ? c.body() : c.body
        const response = await api(c.method, path, { token, body })
        expect(response.status, JSON.stringify(response.body)).to.equal(c.status)
        expect(response.body).to.include.keys('name', 'message', 'code')
        const mentions = typeof c.mentions === 'function' ? c.mentions() : c.mentions
        if (mentions) expect(JSON.stringify(response.body)).to.include(mentions)
      })
    }
  })
})
