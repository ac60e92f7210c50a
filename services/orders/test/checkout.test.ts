import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Bus } from '../../../shared/bus/bus.ts'
import { DELIVERY_SHIPPED, PAYMENT_CAPTURED, PAYMENT_FAILED } from '../../../shared/contracts/checkout.ts'
import { EventTap } from '../../../shared/testing/event-tap.ts'
import { call, type JsonRequest } from '../../../shared/testing/http.ts'
import { identity, testEnv, uniqueNamespace, waitFor, type RunningApp, type TestIdentity } from '../../../shared/testing/index.ts'
import { TestApps } from '../../../shared/testing/apps.ts'
import { createApp as createCatalog } from '../../catalog/app.ts'
import { createApp as createReference } from '../../reference/app.ts'
import { createApp } from '../app.ts'

/**
 * The checkout's process manager in orders, driven by the events payments and fulfilment publish (played here by
 * the test's own bus): a capture pays an open order once, shipments fulfil it, an unpaid order is cancelled at its
 * deadline and gives its stock back, and nothing arriving late or twice moves an order a second time.
 */
describe('orders: the checkout process manager', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('checkout-orders')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  const paymentTimeoutMs = 1_500
  let catalog: RunningApp
  let orders: RunningApp
  let tap: EventTap
  let payments: Bus
  let fulfilment: Bus
  const sellerA = identity('seller', 'Ada')
  const sellerB = identity('seller', 'Bo')
  const buyer = identity('buyer', 'Bea')
  const otherBuyer = identity('buyer', 'Ole')

  const api = (method: string, path: string, request?: JsonRequest) => call(orders.url, method, path, request)
  const projection = () => orders.app.get('db').withSchema(orders.app.get('schema')).table('products')
  const listed = async (seller: TestIdentity, stock = 10, price = 1_000) => {
    const response = await call(catalog.url, 'POST', '/products', { token: seller.token, body: { title: `${seller.name}'s goods`, description: '', price, currency: 'EUR', stock } })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    await waitFor(() => projection().where({ productId: response.body.id }).first(), { what: 'the product in the orders projection' })
    return response.body.id as string
  }
  const placed = async (items: Array<{ productId: string; quantity: number }>, who = buyer) => {
    const response = await api('POST', '/orders', { token: who.token, body: { items } })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    return response.body as { id: string; total: number; currency: string; buyerId: string }
  }
  const capture = (order: { id: string; total: number; currency: string }, paymentId = randomUUID(), messageId?: string) =>
    payments.publisher.publish(PAYMENT_CAPTURED, {
      paymentId, orderId: order.id, buyerId: buyer.id, amount: order.total, currency: order.currency, chargeId: randomUUID(), capturedAt: new Date().toISOString()
    }, messageId ? { messageId } : undefined)
  const statusOf = async (orderId: string) => (await api('GET', `/orders/${orderId}`, { token: buyer.token })).body.status as string
  const stockOf = (productId: string) => projection().where({ productId }).first('reserved', 'sold')
  const eventsFor = (key: string, orderId: string) => tap.events.filter((e) => e.routingKey === key && e.payload.orderId === orderId)

  before(async function () {
    const [, started, placedOrders] = await apps.startAll([createReference(env), createCatalog(env), createApp(env, { orderPaymentTimeoutMs: paymentTimeoutMs })])
    catalog = started!
    orders = placedOrders!
    tap = await EventTap.open(ns, ['order.#'])
    payments = new Bus({ url: env.amqpUrl, namespace: ns, service: 'payments' })
    fulfilment = new Bus({ url: env.amqpUrl, namespace: ns, service: 'fulfilment' })
    await payments.start()
    await fulfilment.start()
  })

  after(async function () {
    await tap?.close()
    await payments?.stop()
    await fulfilment?.stop()
    await apps.close()
  })

  it('a capture pays the order once: stock committed, order.paid with each seller\'s share; a redelivery and a second capture change nothing', async function () {
    const lamp = await listed(sellerA)
    const rug = await listed(sellerB, 10, 5_000)
    const order = await placed([{ productId: lamp, quantity: 2 }, { productId: rug, quantity: 1 }])
    expect(await stockOf(lamp)).to.deep.equal({ reserved: 2, sold: 0 })

    const messageId = randomUUID()
    const paymentId = randomUUID()
    await capture(order, paymentId, messageId)
    await capture(order, paymentId, messageId) // the same message again
    const [paid] = await tap.next((e) => e.routingKey === 'order.paid' && e.payload.orderId === order.id, { what: 'order.paid' })
    expect(paid!.payload).to.include({ orderId: order.id, buyerId: buyer.id, paymentId, total: 7_000, currency: 'EUR', shipTo: null })
    expect(paid!.payload.sellers.map((s: { sellerId: string; total: number }) => [s.sellerId, s.total]).sort()).to.deep.equal([[sellerA.id, 2_000], [sellerB.id, 5_000]].sort())
    expect(await statusOf(order.id)).to.equal('paid')
    expect(await stockOf(lamp)).to.deep.equal({ reserved: 0, sold: 2 })

    await capture(order) // another payment's capture for an order already paid
    await waitFor(async () => (await orders.app.get('db').withSchema(orders.app.get('schema')).table('checkout_steps').where({ orderId: order.id, step: 'capture-after-close' })).length === 1, { what: 'the late capture noted' })
    expect(eventsFor('order.paid', order.id)).to.have.length(1)
  })

  it('fulfilled once every seller\'s delivery shipped, told once', async function () {
    const lamp = await listed(sellerA)
    const rug = await listed(sellerB)
    const order = await placed([{ productId: lamp, quantity: 1 }, { productId: rug, quantity: 1 }])
    await capture(order)
    await tap.next((e) => e.routingKey === 'order.paid' && e.payload.orderId === order.id, { what: 'order.paid' })
    const ship = (sellerId: string) => fulfilment.publisher.publish(DELIVERY_SHIPPED, { deliveryId: randomUUID(), orderId: order.id, sellerId, buyerId: buyer.id, shippedAt: new Date().toISOString() })
    await ship(sellerA.id)
    await waitFor(async () => (await orders.app.get('db').withSchema(orders.app.get('schema')).table('order_shipments').where({ orderId: order.id })).length === 1, { what: 'the first shipment noted' })
    expect(await statusOf(order.id)).to.equal('paid')
    await ship(sellerB.id)
    await tap.next((e) => e.routingKey === 'order.fulfilled' && e.payload.orderId === order.id, { what: 'order.fulfilled' })
    expect(await statusOf(order.id)).to.equal('fulfilled')
    await ship(sellerB.id) // a second notice of the same shipment
    await waitFor(async () => (await orders.app.get('db').withSchema(orders.app.get('schema')).table('checkout_steps').where({ orderId: order.id, step: 'delivery-shipped' })).length === 3, { what: 'the repeated shipment noted' })
    expect(eventsFor('order.fulfilled', order.id)).to.have.length(1)
  })

  it('an unpaid order is cancelled at its deadline and gives its stock back; a failed payment leaves it open until then; a capture after it pays nothing', async function () {
    const vase = await listed(sellerA, 3)
    const order = await placed([{ productId: vase, quantity: 3 }])
    expect((await api('POST', '/orders', { token: otherBuyer.token, body: { items: [{ productId: vase, quantity: 1 }] } })).status).to.equal(409)
    await payments.publisher.publish(PAYMENT_FAILED, { paymentId: randomUUID(), orderId: order.id, buyerId: buyer.id, amount: order.total, currency: 'EUR', reason: 'declined', failedAt: new Date().toISOString() })
    const placedAt = Date.now()
    const [cancelled] = await tap.next((e) => e.routingKey === 'order.cancelled' && e.payload.orderId === order.id, { what: 'order.cancelled', timeoutMs: paymentTimeoutMs + 10_000 })
    expect(Date.now() - placedAt).to.be.at.least(paymentTimeoutMs - 500)
    expect(cancelled!.payload).to.include({ reason: 'payment_timeout', buyerId: buyer.id, total: 3_000 })
    expect(await statusOf(order.id)).to.equal('cancelled')
    expect(await stockOf(vase)).to.deep.equal({ reserved: 0, sold: 0 })
    await waitFor(async () => (await call(catalog.url, 'GET', `/products/${vase}`)).body.available === 3, { what: 'the catalog to show the units again' })
    await placed([{ productId: vase, quantity: 1 }], otherBuyer) // the released units can be bought again

    await capture(order)
    await waitFor(async () => (await orders.app.get('db').withSchema(orders.app.get('schema')).table('checkout_steps').where({ orderId: order.id, step: 'capture-after-close' })).length === 1, { what: 'the late capture noted' })
    expect(await statusOf(order.id)).to.equal('cancelled')
    expect(eventsFor('order.paid', order.id)).to.have.length(0)
  })

  it('the buyer cancels an order waiting for payment; a second cancel, a paid order or another buyer cannot', async function () {
    const mug = await listed(sellerA, 5)
    const order = await placed([{ productId: mug, quantity: 2 }])
    expect((await api('PATCH', `/orders/${order.id}`, { token: otherBuyer.token, body: { status: 'cancelled' } })).status).to.equal(403)
    const cancelled = await api('PATCH', `/orders/${order.id}`, { token: buyer.token, body: { status: 'cancelled' } })
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200)
    expect(cancelled.body).to.include({ id: order.id, status: 'cancelled', cancelReason: 'buyer' })
    expect((await tap.next((e) => e.routingKey === 'order.cancelled' && e.payload.orderId === order.id, { what: 'order.cancelled' }))[0]!.payload.reason).to.equal('buyer')
    expect(await stockOf(mug)).to.deep.equal({ reserved: 0, sold: 0 })
    expect((await api('PATCH', `/orders/${order.id}`, { token: buyer.token, body: { status: 'cancelled' } })).status).to.equal(409)

    const paidOrder = await placed([{ productId: mug, quantity: 1 }])
    await capture(paidOrder)
    await tap.next((e) => e.routingKey === 'order.paid' && e.payload.orderId === paidOrder.id, { what: 'order.paid' })
    expect((await api('PATCH', `/orders/${paidOrder.id}`, { token: buyer.token, body: { status: 'cancelled' } })).status).to.equal(409)
    expect((await api('PATCH', `/orders/${randomUUID()}`, { token: buyer.token, body: { status: 'cancelled' } })).status).to.equal(404)
  })

  it('50 concurrent orders for the last 10 units: ten 201s, forty 409s, never oversold; a cancellation gives a unit back', async function () {
    const print = await listed(sellerB, 10)
    const buyers = Array.from({ length: 50 }, (_, i) => identity('buyer', `Rush ${i}`))
    const answers = await Promise.all(buyers.map((who) => api('POST', '/orders', { token: who.token, body: { items: [{ productId: print, quantity: 1 }] } })))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 201)).to.have.length(10)
    expect(statuses.filter((s) => s === 409)).to.have.length(40)
    expect(await stockOf(print)).to.deep.equal({ reserved: 10, sold: 0 })
    await waitFor(async () => (await call(catalog.url, 'GET', `/products/${print}`)).body.available === 0, { what: 'the catalog to show none left' })

    const winner = answers.findIndex((a) => a.status === 201)
    expect((await api('PATCH', `/orders/${answers[winner]!.body.id}`, { token: buyers[winner]!.token, body: { status: 'cancelled' } })).status).to.equal(200)
    await waitFor(async () => (await call(catalog.url, 'GET', `/products/${print}`)).body.available === 1, { what: 'the catalog to show the unit back' })
    expect((await api('POST', '/orders', { token: buyer.token, body: { items: [{ productId: print, quantity: 1 }] } })).status).to.equal(201)
  })
})
