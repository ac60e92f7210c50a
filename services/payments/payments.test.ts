import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { startCardProvider, type RunningCardProvider } from '../card-provider/app.ts'
import { Bus } from '../../shared/bus/bus.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createPayments } from './app.ts'
import { publishCancelled, publishPaid, publishPlaced, type TestOrder } from './testing.ts'

/**
 * Payments against the real broker, PostgreSQL and the simulated card provider (its own HTTP server and books):
 * every outcome is read back from GET /payments, the events on the exchange and the provider's ledger.
 */
describe('payments: one charge per payment, whatever the provider does', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('payments')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  let provider: RunningCardProvider
  let payments: RunningApp
  let orders: Bus
  let tap: EventTap
  const buyer = identity('buyer', 'Bea')
  const other = identity('buyer', 'Oto')

  before(async function () {
    // tok_slow answers after 1.5 s, an attempt times out after 0.6 s: the client's retry must find the first charge
    provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns, failures: { slowMs: 1_500, flakyErrors: 1 } })
    tap = await EventTap.open(ns, ['payment.*'])
    payments = await apps.start(createPayments(env, {
      cardProviderUrl: provider.url,
      cardProviderTimeoutMs: 600,
      chargeRetryDelaysMs: [200, 500],
      refundRetryDelaysMs: [200, 500],
      orderWaitMs: 2_000
    }))
    orders = new Bus({ url: env.amqpUrl, namespace: ns, service: 'orders' })
    await orders.start()
  })

  after(async function () {
    await orders?.stop()
    await tap?.close()
    await apps.close()
    await provider?.stop()
  })

  const pay = (order: TestOrder, token: string, options: { key?: string; as?: typeof buyer } = {}) =>
    call(payments.url, 'POST', '/payments', {
      token: (options.as ?? buyer).token,
      body: { orderId: order.orderId, card: { token } },
      headers: options.key ? { 'idempotency-key': options.key } : {}
    })
  const payment = async (id: string) => (await call(payments.url, 'GET', `/payments/${id}`, { token: buyer.token })).body
  const settled = (id: string, status: string) =>
    waitFor(async () => {
      const p = await payment(id)
      return p.status === status && p
    }, { timeoutMs: 15_000, what: `payment ${id} ${status}` })
  const chargesOf = async (paymentId: string) => (await provider.ledger.statement()).charges.filter((c) => c.idempotencyKey === paymentId)
  const refundsOf = async (paymentId: string) => (await provider.ledger.statement()).refunds.filter((r) => r.idempotencyKey === `refund-${paymentId}`)
  const eventsOf = (key: string, paymentId: string) => tap.events.filter((e) => e.routingKey === key && e.payload.paymentId === paymentId)
  const inboxCount = async () =>
    Number((await payments.app.get('db').withSchema(payments.app.get('schema')).table('inbox').where({ consumer: 'order-events' }).count({ n: '*' }))[0]!.n)
  const outboxDrained = () =>
    waitFor(async () => Number((await payments.app.get('db').withSchema(payments.app.get('schema')).table('outbox').count({ n: '*' }))[0]!.n) === 0, {
      what: "payments' outbox to drain"
    })

  it('tok_ok: 202 pending, then captured, payment.captured published once, one charge', async function () {
    const order = await publishPlaced(orders, buyer, 1_999)
    const made = await pay(order, 'tok_ok')
    expect(made.status).to.equal(202)
    expect(made.body).to.deep.include({ orderId: order.orderId, status: 'pending', amount: 1_999, currency: 'EUR' })
    expect(made.body).to.have.all.keys('id', 'orderId', 'status', 'amount', 'currency', 'createdAt')
    const captured = await settled(made.body.id, 'captured')
    expect(captured).to.not.have.property('reason')
    const [event] = await tap.next((e) => e.routingKey === 'payment.captured' && e.payload.paymentId === made.body.id, { what: 'payment.captured' })
    expect(event!.payload).to.include({ orderId: order.orderId, buyerId: buyer.id, amount: 1_999, currency: 'EUR' })
    expect(event!.payload.chargeId).to.equal((await chargesOf(made.body.id))[0]!.id)
    await outboxDrained()
    expect(eventsOf('payment.captured', made.body.id)).to.have.length(1)
    expect(await chargesOf(made.body.id)).to.have.length(1)
  })

  it('tok_declined: failed with reason declined and payment.failed; a new payment of the order is then allowed', async function () {
    const order = await publishPlaced(orders, buyer)
    const declined = await pay(order, 'tok_declined')
    expect(declined.status).to.equal(202)
    expect(await settled(declined.body.id, 'failed')).to.include({ reason: 'declined' })
    const [event] = await tap.next((e) => e.routingKey === 'payment.failed' && e.payload.paymentId === declined.body.id, { what: 'payment.failed' })
    expect(event!.payload).to.include({ reason: 'declined', orderId: order.orderId })
    expect(eventsOf('payment.captured', declined.body.id)).to.have.length(0)

    const retried = await pay(order, 'tok_ok')
    expect(retried.status).to.equal(202)
    expect(retried.body.id).to.not.equal(declined.body.id)
    await settled(retried.body.id, 'captured')
  })

  for (const token of ['tok_flaky', 'tok_slow']) {
    it(`${token}: captured after the lost answers, with exactly one charge in the provider's ledger`, async function () {
      const order = await publishPlaced(orders, buyer)
      const made = await pay(order, token)
      expect(made.status).to.equal(202)
      await settled(made.body.id, 'captured')
      const charges = await chargesOf(made.body.id)
      expect(charges).to.have.length(1)
      expect(charges[0]).to.include({ status: 'captured', amount: 2_500, token })
      await outboxDrained()
      expect(eventsOf('payment.captured', made.body.id)).to.have.length(1)
    })
  }

  it('a replayed Idempotency-Key and a second payment return the same payment: one charge; the key with another card or order is 409', async function () {
    const order = await publishPlaced(orders, buyer)
    const key = `checkout-${randomUUID()}`
    const [first, replayed] = await Promise.all([pay(order, 'tok_ok', { key }), pay(order, 'tok_ok', { key })])
    expect([first.status, replayed.status]).to.deep.equal([202, 202])
    expect(replayed.body.id).to.equal(first.body.id)
    // second payments, five at once without a key: the order's row lock hands each the live payment
    const seconds = await Promise.all(Array.from({ length: 5 }, () => pay(order, 'tok_ok')))
    expect(seconds.map((r) => r.status)).to.deep.equal([202, 202, 202, 202, 202])
    expect(new Set(seconds.map((r) => r.body.id))).to.deep.equal(new Set([first.body.id]))
    await settled(first.body.id, 'captured')
    const afterCapture = await pay(order, 'tok_ok', { key })
    expect(afterCapture.body).to.include({ id: first.body.id, status: 'captured' })
    expect(await chargesOf(first.body.id)).to.have.length(1)
    const rows = await payments.app.get('db').withSchema(payments.app.get('schema')).table('payments').where({ orderId: order.orderId })
    expect(rows).to.have.length(1)

    const otherCard = await pay(order, 'tok_declined', { key })
    expect(otherCard.status).to.equal(409)
    expect(otherCard.body.data).to.have.property('Idempotency-Key')
    const elsewhere = await pay(await publishPlaced(orders, buyer), 'tok_ok', { key })
    expect(elsewhere.status).to.equal(409)
    expect(elsewhere.body.data).to.have.property('Idempotency-Key')
  })

  it('order.cancelled after the capture: refunded exactly once, payment.refunded once', async function () {
    const order = await publishPlaced(orders, buyer)
    const made = await pay(order, 'tok_ok')
    await settled(made.body.id, 'captured')
    await publishCancelled(orders, order)
    await settled(made.body.id, 'refunded')
    const [event] = await tap.next((e) => e.routingKey === 'payment.refunded' && e.payload.paymentId === made.body.id, { what: 'payment.refunded' })
    const refunds = await refundsOf(made.body.id)
    expect(refunds).to.have.length(1)
    expect(event!.payload).to.include({ refundId: refunds[0]!.id, amount: 2_500 })
    // the cancellation again, as a new message (a redelivery of the same one never reaches the effect: inbox)
    const handled = await inboxCount()
    await publishCancelled(orders, order)
    await waitFor(async () => (await inboxCount()) > handled, { what: 'the second order.cancelled to be handled' })
    await outboxDrained()
    expect(await refundsOf(made.body.id)).to.have.length(1)
    expect(eventsOf('payment.refunded', made.body.id)).to.have.length(1)
    expect((await provider.ledger.statement()).refunds.filter((r) => r.chargeId === event!.payload.chargeId)).to.have.length(1)
  })

  it('a capture for an order paid by another payment is refunded; the paying payment is kept', async function () {
    const order = await publishPlaced(orders, buyer)
    const made = await pay(order, 'tok_ok')
    await settled(made.body.id, 'captured')
    await publishPaid(orders, order, randomUUID())
    await settled(made.body.id, 'refunded')
    expect(await refundsOf(made.body.id)).to.have.length(1)

    const kept = await publishPlaced(orders, buyer)
    const paying = await pay(kept, 'tok_ok')
    await settled(paying.body.id, 'captured')
    await publishPaid(orders, kept, paying.body.id)
    // its own order.paid changes nothing: paying again answers with it, still captured
    await waitFor(async () => {
      const row = await payments.app.get('db').withSchema(payments.app.get('schema')).table('orders').where({ orderId: kept.orderId }).first()
      return row?.status === 'paid'
    }, { what: 'the order paid in the projection' })
    expect((await pay(kept, 'tok_ok')).body).to.include({ id: paying.body.id, status: 'captured' })
    expect(await refundsOf(paying.body.id)).to.have.length(0)
  })

  it('a cancelled order is 409; an order placed a moment after the request is waited for; an unknown one is 404 after ORDER_WAIT', async function () {
    const order = await publishPlaced(orders, buyer)
    await publishCancelled(orders, order)
    const refused = await waitFor(async () => {
      const r = await pay(order, 'tok_ok')
      return r.status === 409 && r
    }, { what: 'the cancelled order to be refused' })
    expect(refused.body.data).to.deep.equal({ orderId: 'cancelled' })

    // the request goes out before order.placed does: payments waits for its projection to learn the order
    const early = { orderId: randomUUID() }
    const pending = call(payments.url, 'POST', '/payments', { token: buyer.token, body: { orderId: early.orderId, card: { token: 'tok_ok' } } })
    const placed = await publishPlacedWithId(early.orderId)
    const answered = await pending
    expect(answered.status).to.equal(202)
    await settled(answered.body.id, 'captured')
    expect(placed).to.equal(early.orderId)

    const started = Date.now()
    const unknown = await call(payments.url, 'POST', '/payments', { token: buyer.token, body: { orderId: randomUUID(), card: { token: 'tok_ok' } } })
    expect(unknown.status).to.equal(404)
    expect(Date.now() - started).to.be.at.least(1_900)
  })

  async function publishPlacedWithId(orderId: string) {
    await orders.publisher.publish('order.placed', {
      orderId,
      buyerId: buyer.id,
      items: [{ productId: randomUUID(), sellerId: randomUUID(), title: 'Kettle', unitPrice: 700, quantity: 1 }],
      total: 700,
      currency: 'EUR',
      createdAt: new Date().toISOString()
    })
    return orderId
  }

  it('who may pay and read: another buyer\'s order is 403, a seller is 403, another buyer reads no payment of ours', async function () {
    const order = await publishPlaced(orders, buyer)
    expect((await pay(order, 'tok_declined')).status).to.equal(202)
    expect((await pay(order, 'tok_ok', { as: other })).status).to.equal(403)
    expect((await pay(order, 'tok_ok', { as: identity('seller') })).status).to.equal(403)
    const mine = (await call(payments.url, 'GET', `/payments?orderId=${order.orderId}`, { token: buyer.token })).body
    expect(mine.data).to.have.length(1)
    expect(mine.data[0]).to.not.have.property('token')
    expect((await call(payments.url, 'GET', `/payments?orderId=${order.orderId}`, { token: other.token })).body.data).to.have.length(0)
    expect((await call(payments.url, 'GET', `/payments/${mine.data[0].id}`, { token: other.token })).status).to.equal(403)
    expect((await call(payments.url, 'GET', `/payments/${mine.data[0].id}`, { token: identity('admin').token })).status).to.equal(200)
    expect((await call(payments.url, 'GET', '/payments/not-a-uuid', { token: buyer.token })).status).to.equal(404)
    expect((await call(payments.url, 'POST', '/payments', { body: { orderId: order.orderId, card: { token: 'tok_ok' } } })).status).to.equal(401)
  })

  it('bad input is a 400 naming the fields, never a 500, and charges nothing', async function () {
    const before = (await provider.ledger.statement()).charges.length
    const bad = async (body: unknown, headers: Record<string, string> = {}) => {
      const r = await call(payments.url, 'POST', '/payments', { token: buyer.token, body, headers })
      expect(r.status, JSON.stringify(body)).to.equal(400)
      return JSON.stringify(r.body.data)
    }
    expect(await bad({ card: { token: 'tok_ok' } })).to.include('orderId')
    expect(await bad({ orderId: 'nope', card: { token: 'tok_ok' } })).to.include('orderId')
    expect(await bad({ orderId: randomUUID(), card: { token: 'visa 4242' } })).to.include('token')
    expect(await bad({ orderId: randomUUID() })).to.include('card')
    expect(await bad({ orderId: randomUUID(), card: { token: 'tok_ok' }, amount: 1 })).to.include('amount')
    expect(await bad({ orderId: randomUUID(), card: { token: 'tok_ok' } }, { 'idempotency-key': 'x'.repeat(256) })).to.include('Idempotency-Key')
    expect(await bad([{ orderId: randomUUID() }])).to.include('body')
    expect((await provider.ledger.statement()).charges.length).to.equal(before)
  })
})
