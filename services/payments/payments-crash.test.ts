import { expect } from 'chai'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Supervised } from '../../chaos/supervisor.ts'
import { startCardProvider, type RunningCardProvider } from '../card-provider/app.ts'
import { Bus } from '../../shared/bus/bus.ts'
import { createKnex, schemaName } from '../../shared/db/database.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { dropNamespaceSchemas, identity, Management, testEnv, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { call } from '../../shared/testing/http.ts'
import { publishCancelled, publishPlaced } from './testing.ts'

/**
 * The payments process SIGKILLed while the provider is still answering a charge it has already made, and a
 * cancellation that lands while a charge is in flight: one charge each, and exactly one refund for the
 * cancelled order. The provider answers tok_slow after 3 s; an attempt waits up to 5 s, so the charge is in
 * flight for 3 s, long enough to act in between.
 */
describe('payments: a crash mid-charge and a cancellation mid-charge', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('payments-crash')
  const env = testEnv(ns)
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const url = `http://127.0.0.1:${port}`
  const db = createKnex(env.databaseUrl, schemaName(ns, 'payments'))
  let provider: RunningCardProvider
  let payments: Supervised
  let orders: Bus
  let tap: EventTap
  const buyer = identity('buyer', 'Kim')

  before(async function () {
    provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns, failures: { slowMs: 3_000 } })
    tap = await EventTap.open(ns, ['payment.*'])
    payments = new Supervised({
      name: `payments-${ns}`,
      args: ['--import', 'tsx', join(import.meta.dirname, 'index.ts')],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        BAZAAR_NAMESPACE: ns,
        PAYMENTS_PORT: String(port),
        CARD_PROVIDER_URL: provider.url,
        CARD_PROVIDER_TIMEOUT: '5s',
        CHARGE_RETRY_DELAYS: '200ms,500ms',
        REFUND_RETRY_DELAYS: '200ms,500ms'
      },
      healthUrl: `${url}/health`,
      logDir: join(tmpdir(), 'bazaar-payments-crash')
    })
    await payments.start()
    orders = new Bus({ url: env.amqpUrl, namespace: ns, service: 'orders' })
    await orders.start()
  })

  after(async function () {
    await payments?.kill('SIGKILL')
    payments?.close()
    await orders?.stop()
    await tap?.close()
    await db.destroy()
    await provider?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  const pay = (orderId: string) => call(url, 'POST', '/payments', { token: buyer.token, body: { orderId, card: { token: 'tok_slow' } } })
  const statusOf = async (id: string) => (await db('payments').where({ id }).first())?.status as string | undefined
  const chargesOf = async (id: string) => (await provider.ledger.statement()).charges.filter((c) => c.idempotencyKey === id)
  const refundsOf = async (id: string) => (await provider.ledger.statement()).refunds.filter((r) => r.idempotencyKey === `refund-${id}`)
  const eventsOf = (key: string, id: string) => tap.events.filter((e) => e.routingKey === key && e.payload.paymentId === id)
  const outboxDrained = () => waitFor(async () => Number((await db('outbox').count({ n: '*' }))[0]!.n) === 0, { timeoutMs: 20_000, what: 'the outbox to drain' })

  it('SIGKILL between the provider making the charge and payments recording it: the restarted process finds it by key, one charge, captured', async function () {
    const order = await publishPlaced(orders, buyer)
    const made = await pay(order.orderId)
    expect(made.status).to.equal(202)
    const id: string = made.body.id
    // the provider has made the charge and is still answering: payments is waiting for it
    await waitFor(async () => (await chargesOf(id)).length === 1, { what: 'the provider to make the charge' })
    await payments.kill('SIGKILL')
    expect(await statusOf(id)).to.equal('pending')
    await payments.start()
    await waitFor(async () => (await statusOf(id)) === 'captured', { timeoutMs: 20_000, what: 'the payment captured after the restart' })
    expect(await chargesOf(id)).to.have.length(1)
    const row = await db('payments').where({ id }).first()
    expect(row.chargeId).to.equal((await chargesOf(id))[0]!.id)
    await outboxDrained()
    await tap.next((e) => e.routingKey === 'payment.captured' && e.payload.paymentId === id, { what: 'payment.captured' })
    expect(eventsOf('payment.captured', id)).to.have.length(1)
  })

  it('order.cancelled while the charge is in flight: the capture is recorded, then refunded exactly once', async function () {
    const order = await publishPlaced(orders, buyer)
    const made = await pay(order.orderId)
    const id: string = made.body.id
    await waitFor(async () => (await chargesOf(id)).length === 1, { what: 'the provider to make the charge' })
    await publishCancelled(orders, order)
    await waitFor(async () => (await db('orders').where({ orderId: order.orderId }).first())?.status === 'cancelled', { what: 'the cancellation in the projection' })
    // the cancellation came first: the charge's answer is still on its way
    expect(await statusOf(id)).to.equal('pending')
    await waitFor(async () => (await statusOf(id)) === 'refunded', { timeoutMs: 20_000, what: 'the capture refunded' })
    expect(await chargesOf(id)).to.have.length(1)
    expect(await refundsOf(id)).to.have.length(1)
    await outboxDrained()
    await tap.next((e) => e.routingKey === 'payment.refunded' && e.payload.paymentId === id, { what: 'payment.refunded' })
    expect(eventsOf('payment.captured', id)).to.have.length(1)
    expect(eventsOf('payment.refunded', id)).to.have.length(1)
    const answer = await call(url, 'GET', `/payments/${id}`, { token: buyer.token })
    expect(answer.body).to.include({ id, status: 'refunded' })
  })
})
