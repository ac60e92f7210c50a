import { expect } from 'chai'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { json, register, type Actor } from '../support/identities.ts'
import { startStack, type Stack } from '../support/stack.ts'

/**
 * A payment racing its order's deadline, through the public origin (contract.md "Checkout"): the provider takes
 * the charge before the deadline and answers only after it. The scheduler cancels the unpaid order on time
 * anyway, and the capture that lands afterwards is refunded, once: the buyer is never charged for a cancelled
 * order. The stack's own settings make the race wide enough to be certain on a loaded machine: the deadline
 * 3 s after the order, the payment 1.5 s before it, the provider's answer 3 s after the charge.
 */
describe('checkout: a payment racing its order\'s deadline', function () {
  this.timeout(60_000)
  const namespace = uniqueNamespace('e2e-deadline')
  const paymentTimeoutMs = 3_000
  const slowMs = 3_000
  let stack: Stack
  let base: string
  let buyer: Actor
  let seller: Actor

  before(async function () {
    stack = await startStack(namespace, {}, {
      orders: { orderPaymentTimeoutMs: paymentTimeoutMs },
      // longer than the provider's slow answer: payments waits for it rather than asking again by the key
      payments: { cardProviderTimeoutMs: slowMs + 3_000 },
      cardFailures: { slowMs }
    })
    base = stack.base
    ;[buyer, seller] = await Promise.all([register(base, 'buyer', 'Rae Racer'), register(base, 'seller', 'Sam Seller')])
  })

  after(async function () {
    await stack?.stop()
  })

  it('the deadline cancels the order on time while its charge is in flight; the capture landing after it is refunded once, and the stock comes back', async function () {
    const made = await json(base, 'POST', '/products', { title: 'Last lamp', description: '', price: 2_500, currency: 'EUR', stock: 1 }, seller.token)
    expect(made.status, JSON.stringify(made.body)).to.equal(201)
    const productId = made.body.id as string
    const orders = stack.apps.get('orders')!.app
    await waitFor(() => orders.get('db').withSchema(orders.get('schema')).table('products').where({ productId }).first(), { what: 'the product where orders can sell it' })
    const placed = await json(base, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, buyer.token)
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201)
    const orderId = placed.body.id as string

    // The race is the scenario, not a wait for an outcome: the payment starts 1.5 s before the deadline.
    const deadline = Date.parse(placed.body.createdAt) + paymentTimeoutMs
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - 1_500 - Date.now())))
    const paid = await json(base, 'POST', '/payments', { orderId, card: { token: 'tok_slow' } }, buyer.token)
    expect(paid.status, JSON.stringify(paid.body)).to.equal(202)
    const paymentId = paid.body.id as string

    const cancelled = await waitFor(async () => {
      const seen = await json(base, 'GET', `/orders/${orderId}`, undefined, buyer.token)
      return seen.body.status === 'cancelled' ? seen.body : undefined
    }, { what: 'the order cancelled at its deadline', timeoutMs: 15_000 })
    expect(cancelled.cancelReason).to.equal('payment_timeout')
    const lateness = Date.parse(cancelled.cancelledAt) - deadline
    expect(lateness, 'cancelled on time, by the database clock').to.be.within(-50, 2_000)
    const charges = () => stack.cardProvider.ledger.statement().then((s) => s.charges.filter((c) => c.idempotencyKey === paymentId))
    expect(await charges(), 'the provider had taken the charge before the cancellation').to.have.length(1)

    const refunded = await waitFor(async () => {
      const seen = await json(base, 'GET', `/payments/${paymentId}`, undefined, buyer.token)
      return seen.body.status === 'refunded' ? seen.body : undefined
    }, { what: 'the late capture refunded', timeoutMs: 20_000 })
    expect(refunded.id).to.equal(paymentId)
    const [charge] = await charges()
    expect(charge!.status).to.equal('captured')
    const statement = await stack.cardProvider.ledger.statement()
    expect(statement.charges.filter((c) => c.idempotencyKey === paymentId), 'one charge under the payment\'s key').to.have.length(1)
    expect(statement.refunds.filter((r) => r.chargeId === charge!.id), 'refunded once').to.have.length(1)
    expect((await json(base, 'GET', `/orders/${orderId}`, undefined, buyer.token)).body.status, 'the order stays cancelled').to.equal('cancelled')
    await waitFor(async () => (await json(base, 'GET', `/products/${productId}`)).body.available === 1, { what: 'the unit back in the catalog' })
  })
})
