import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { ORDER_CREATED, type OrderCreated } from '../../shared/contracts/index.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call } from '../../shared/testing/http.ts'
import { createApp } from './app.ts'
import { createApp as createReference } from '../reference/app.ts'

const ns = uniqueNamespace('catalog-available')

/** `available` follows orders (order.created), exactly once per event, and never touches the seller's `stock`. */
describe('catalog: what a buyer can still buy', function () {
  const env = testEnv(ns)
  let running: RunningApp
  let reference: RunningApp
  let orders: Bus
  const handled: Envelope[] = []
  const seller = identity('seller')

  before(async () => {
    reference = await startApp(createReference(env)) // the countries, currencies and flags it keeps in memory
    running = await startApp(createApp(env))
    running.app.get('bus').consumers[0]!.on('handled', (message: Envelope) => handled.push(message))
    orders = new Bus({ url: env.amqpUrl, namespace: ns, service: 'orders' })
    await orders.start()
  })

  after(async () => {
    await orders?.stop()
    await running?.stop()
    await reference?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  const anOrder = (productId: string, quantity: number): OrderCreated => ({
    orderId: randomUUID(), buyerId: randomUUID(), sellerId: seller.id, currency: 'EUR', createdAt: new Date().toISOString(),
    items: [{ productId, sellerId: seller.id, title: 'Lamp', unitPrice: 100, quantity }], total: 100 * quantity
  })

  it('an order lowers available, a redelivered one does not, stock stays as set', async () => {
    const created = await call(running.url, 'POST', '/products', { token: seller.token, body: { title: 'Lamp', description: '', price: 100, currency: 'EUR', stock: 5 } })
    expect(created.body).to.include({ stock: 5, available: 5 })
    const order = anOrder(created.body.id, 2)
    const messageId = randomUUID()
    await orders.publisher.publish(ORDER_CREATED, order, { messageId })
    await orders.publisher.publish(ORDER_CREATED, order, { messageId })
    await orders.publisher.publish(ORDER_CREATED, anOrder(created.body.id, 4))
    await waitFor(() => handled.length >= 3, { what: 'three deliveries handled' })
    const read = await call(running.url, 'GET', `/products/${created.body.id}`)
    // 5 - 2 - 4, never below 0; the duplicate counted once
    expect(read.body).to.include({ stock: 5, available: 0 })
    const patched = await call(running.url, 'PATCH', `/products/${created.body.id}`, { token: seller.token, body: { stock: 10 } })
    expect(patched.body).to.include({ stock: 10, available: 4 })
  })
})
