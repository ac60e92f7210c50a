import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { listen, opened, type Listener } from '../../services/gateway/test/support.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { json, register, type Actor } from '../support/identities.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { runCli, runJson } from '../cli/cli.ts'

/**
 * The checkout end to end through the public origin (contract.md "Checkout"): order, pay, each seller's delivery
 * and invoice, the buyer's notices over SSE, fulfilled once every delivery shipped; declined, flaky and slow
 * cards with at most one capture each; an unpaid order cancelled on time; a capture that lands after the
 * cancellation refunded; sellers' plans renewed, and past due with an email when the card keeps failing.
 */
describe('checkout end to end: exactly-once payments, deliveries, invoices and plans', function () {
  this.timeout(60_000)
  const namespace = uniqueNamespace('e2e-checkout')
  const paymentTimeoutMs = 4_000
  let stack: Stack
  let base: string
  let buyer: Actor
  let sellerA: Actor
  let sellerB: Actor
  let notices: Listener
  let fulfilledOrder: string | undefined
  const shipTo = { name: 'Bea Buyer', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' }

  const product = async (seller: Actor, price: number, stock = 20) => {
    const made = await json(base, 'POST', '/products', { title: `${seller.label}'s goods`, description: '', price, currency: 'EUR', stock }, seller.token)
    expect(made.status, JSON.stringify(made.body)).to.equal(201)
    const orders = stack.apps.get('orders')!.app
    await waitFor(() => orders.get('db').withSchema(orders.get('schema')).table('products').where({ productId: made.body.id }).first(), { what: 'the product where orders can sell it' })
    return made.body.id as string
  }
  const order = async (items: Array<{ productId: string; quantity: number }>, withShipTo = true) => {
    const placed = await json(base, 'POST', '/orders', { items, ...(withShipTo ? { shipTo } : {}) }, buyer.token)
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201)
    return placed.body as { id: string; total: number }
  }
  const pay = async (orderId: string, token: string, key?: string) => {
    const made = await json(base, 'POST', '/payments', { orderId, card: { token } }, buyer.token, key ? { 'idempotency-key': key } : {})
    expect(made.status, JSON.stringify(made.body)).to.equal(202)
    return made.body as { id: string; status: string; amount: number }
  }
  const paymentSettles = (paymentId: string, status: string) =>
    waitFor(async () => {
      const seen = await json(base, 'GET', `/payments/${paymentId}`, undefined, buyer.token)
      return seen.body.status === status ? seen.body : undefined
    }, { what: `payment ${paymentId} ${status}`, timeoutMs: 20_000 })
  const captures = async (paymentId: string) => (await stack.cardProvider.ledger.statement()).charges.filter((c) => c.idempotencyKey === paymentId && c.status === 'captured')
  const noticeOf = (kind: string, orderId: string) =>
    waitFor(() => notices.of('notice').find((n) => n.data.kind === kind && n.data.orderId === orderId), { what: `the buyer's ${kind} notice`, timeoutMs: 20_000 })
  const orderStatus = async (orderId: string) => (await json(base, 'GET', `/orders/${orderId}`, undefined, buyer.token)).body.status

  before(async function () {
    stack = await startStack(namespace, {}, {
      orders: { orderPaymentTimeoutMs: paymentTimeoutMs },
      payments: { cardProviderTimeoutMs: 400, chargeRetryDelaysMs: [100, 200, 400, 800] },
      subscriptions: { planPeriodMs: 1_500, cardProviderTimeoutMs: 400, renewalRetryDelaysMs: [200, 200] },
      cardFailures: { slowMs: 1_200 }
    })
    base = stack.base
    ;[buyer, sellerA, sellerB] = await Promise.all([register(base, 'buyer', 'Bea Buyer'), register(base, 'seller', 'Ada Seller'), register(base, 'seller', 'Bo Seller')])
    notices = listen(base, buyer.token!)
    await opened(notices)
  })

  after(async function () {
    notices?.close()
    await stack?.stop()
  })

  it('happy path: paid with tok_ok, a delivery and an invoice per seller, notices on SSE, fulfilled after every delivery shipped', async function () {
    const lamp = await product(sellerA, 2_500)
    const rug = await product(sellerB, 9_900)
    const placed = await order([{ productId: lamp, quantity: 2 }, { productId: rug, quantity: 1 }])
    const key = randomUUID()
    const payment = await pay(placed.id, 'tok_ok', key)
    expect(payment).to.include({ status: 'pending', amount: 2 * 2_500 + 9_900 })
    expect((await pay(placed.id, 'tok_ok', key)).id, 'the same Idempotency-Key').to.equal(payment.id)
    expect((await pay(placed.id, 'tok_ok')).id, 'a second payment for the order').to.equal(payment.id)

    await noticeOf('order.paid', placed.id)
    expect((await paymentSettles(payment.id, 'captured')).id).to.equal(payment.id)
    expect(await captures(payment.id)).to.have.length(1)
    const deliveries = await waitFor(async () => {
      const found = (await json(base, 'GET', `/deliveries?orderId=${placed.id}`, undefined, buyer.token)).body.data
      return found?.length === 2 ? found : undefined
    }, { what: 'one delivery per seller' })
    expect(deliveries.map((d: { sellerId: string }) => d.sellerId).sort()).to.deep.equal([sellerA.id, sellerB.id].sort())
    for (const delivery of deliveries) expect(delivery).to.deep.include({ status: 'scheduled', shipTo })
    const invoices = await waitFor(async () => {
      const found = (await json(base, 'GET', `/invoices?orderId=${placed.id}`, undefined, buyer.token)).body.data
      return found?.length === 2 ? found : undefined
    }, { what: 'one invoice per seller' })
    const bySeller = Object.fromEntries(invoices.map((i: { sellerId: string }) => [i.sellerId, i]))
    expect(bySeller[sellerA.id!]).to.include({ number: 1, total: 5_000, currency: 'EUR' })
    expect(bySeller[sellerB.id!]).to.include({ number: 1, total: 9_900, currency: 'EUR' })

    const [first, second] = deliveries as Array<{ id: string; sellerId: string }>
    const sellerOf = (d: { sellerId: string }) => (d.sellerId === sellerA.id ? sellerA : sellerB)
    expect((await json(base, 'PATCH', `/deliveries/${first!.id}`, { status: 'shipped' }, sellerOf(first!).token)).status).to.equal(200)
    expect(await orderStatus(placed.id)).to.equal('paid')
    expect((await json(base, 'PATCH', `/deliveries/${second!.id}`, { status: 'shipped' }, sellerOf(second!).token)).status).to.equal(200)
    await noticeOf('order.fulfilled', placed.id)
    expect(await orderStatus(placed.id)).to.equal('fulfilled')
    expect(notices.of('notice').filter((n) => n.data.kind === 'order.paid' && n.data.orderId === placed.id)).to.have.length(1)
    fulfilledOrder = placed.id
  })

  it('bazaar saga show tells where an order stands and every step it took; an unknown order is one line and a non-zero exit', async function () {
    if (!fulfilledOrder) this.skip()
    const report = await runJson(['saga', 'show', fulfilledOrder!], { namespace })
    expect(report.order).to.include({ id: fulfilledOrder, status: 'fulfilled' })
    expect(report.steps.map((s: { step: string }) => s.step)).to.deep.equal(['placed', 'payment-captured', 'paid', 'delivery-shipped', 'delivery-shipped', 'fulfilled'])
    expect(report.payments.map((p: { status: string }) => p.status)).to.deep.equal(['captured'])
    expect(report.payments[0]).to.not.have.property('token')
    expect(report.deliveries).to.have.length(2)
    expect(report.invoices.map((i: { number: number }) => i.number)).to.deep.equal([1, 1])
    const human = await runCli(['saga', 'show', fulfilledOrder!], { namespace })
    expect(human.code).to.equal(0)
    expect(human.stdout).to.include("fulfilled: every seller's delivery shipped").and.include('payment-captured')
    const unknown = await runCli(['saga', 'show', randomUUID()], { namespace })
    expect(unknown.code).to.not.equal(0)
    expect(unknown.stderr.trim().split('\n')).to.have.length(1)
    expect(unknown.stderr).to.include('no order')
  })

  it('tok_declined fails with its reason and tells the buyer; the buyer pays again with tok_flaky: one capture, paid; tok_slow: one capture', async function () {
    const vase = await product(sellerA, 1_200)
    const placed = await order([{ productId: vase, quantity: 1 }])
    const declined = await pay(placed.id, 'tok_declined')
    expect(await paymentSettles(declined.id, 'failed')).to.include({ reason: 'declined' })
    await noticeOf('payment.failed', placed.id)
    expect(await orderStatus(placed.id)).to.equal('created')

    const flaky = await pay(placed.id, 'tok_flaky')
    expect(flaky.id).to.not.equal(declined.id)
    await paymentSettles(flaky.id, 'captured')
    await noticeOf('order.paid', placed.id)
    expect(await captures(flaky.id)).to.have.length(1)
    expect(await captures(declined.id)).to.have.length(0)

    const slowOrder = await order([{ productId: vase, quantity: 1 }], false)
    const slow = await pay(slowOrder.id, 'tok_slow')
    await paymentSettles(slow.id, 'captured')
    await noticeOf('order.paid', slowOrder.id)
    expect(await captures(slow.id)).to.have.length(1)
  })

  it('an unpaid order is cancelled on time, gives its stock back and refuses a payment; a capture landing after a cancellation is refunded', async function () {
    const print = await product(sellerB, 4_000, 1)
    const unpaid = await order([{ productId: print, quantity: 1 }])
    const placedAt = Date.now()
    await noticeOf('order.cancelled', unpaid.id)
    expect(Date.now() - placedAt).to.be.at.least(paymentTimeoutMs - 1_000)
    const cancelled = (await json(base, 'GET', `/orders/${unpaid.id}`, undefined, buyer.token)).body
    expect(cancelled).to.include({ status: 'cancelled', cancelReason: 'payment_timeout' })
    const lateness = Date.parse(cancelled.cancelledAt) - Date.parse(cancelled.createdAt) - paymentTimeoutMs
    expect(lateness, 'cancelled at its deadline, by the database clock').to.be.within(-50, 2_000)
    expect((await json(base, 'POST', '/payments', { orderId: unpaid.id, card: { token: 'tok_ok' } }, buyer.token)).status).to.equal(409)
    await waitFor(async () => (await json(base, 'GET', `/products/${print}`)).body.available === 1, { what: 'the unit back in the catalog' })

    const late = await order([{ productId: print, quantity: 1 }])
    const slow = await pay(late.id, 'tok_slow') // the provider takes the charge now and answers after a while
    expect((await json(base, 'PATCH', `/orders/${late.id}`, { status: 'cancelled' }, buyer.token)).status).to.equal(200)
    await paymentSettles(slow.id, 'refunded')
    expect(await captures(slow.id)).to.have.length(1)
    const [charge] = await captures(slow.id)
    expect((await stack.cardProvider.ledger.statement()).refunds.filter((r) => r.chargeId === charge!.id)).to.have.length(1)
    expect(await orderStatus(late.id)).to.equal('cancelled')
  })

  it("a seller's plan renews every period; a failing card goes past_due after the retries, with one email", async function () {
    const made = await json(base, 'POST', '/subscriptions', { plan: 'pro', card: { token: 'tok_ok' } }, sellerA.token)
    expect(made.status, JSON.stringify(made.body)).to.equal(201)
    expect(made.body).to.include({ sellerId: sellerA.id, plan: 'pro', status: 'active' })
    await waitFor(async () => (await json(base, 'GET', `/subscriptions/${made.body.id}`, undefined, sellerA.token)).body.period >= 2, { what: 'two periods paid', timeoutMs: 20_000 })

    const failing = await json(base, 'POST', '/subscriptions', { plan: 'basic', card: { token: 'tok_declined' } }, sellerB.token)
    expect(failing.status, JSON.stringify(failing.body)).to.equal(201)
    await waitFor(async () => (await json(base, 'GET', `/subscriptions/${failing.body.id}`, undefined, sellerB.token)).body.status === 'past_due', { what: 'the plan past due', timeoutMs: 20_000 })
    const mails = await waitFor(() => {
      const found = stack.smtp.received.filter((m) => m.subject === 'Your Bazaar basic plan is past due' && m.to.includes(sellerB.email!))
      return found.length ? found : undefined
    }, { what: "the seller's past-due email" })
    expect(mails).to.have.length(1)
  })
})
