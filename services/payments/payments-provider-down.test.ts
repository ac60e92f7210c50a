import { expect } from 'chai'
import { startCardProvider, type RunningCardProvider } from '../card-provider/app.ts'
import { Bus } from '../../shared/bus/bus.ts'
import { runJobNow } from '../../shared/jobs/enqueue.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createPayments } from './app.ts'
import { publishPlaced } from './testing.ts'

/**
 * The card provider away: the charge job retries with the same key and captures once it is back; a payment
 * whose every attempt went unanswered is never marked failed without the provider's word (it stays pending,
 * its job failed, for the operator's run-now), and is captured once when run again.
 */
describe('payments: the card provider away', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('payments-down')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  const providerPort = 20_000 + Math.floor(Math.random() * 20_000)
  let provider: RunningCardProvider | undefined
  let payments: RunningApp
  let orders: Bus
  let tap: EventTap
  const buyer = identity('buyer', 'Dee')

  before(async function () {
    tap = await EventTap.open(ns, ['payment.*'])
    payments = await apps.start(createPayments(env, {
      cardProviderUrl: `http://127.0.0.1:${providerPort}`,
      cardProviderTimeoutMs: 300,
      cardProviderRetries: 0,
      // two quick retries, then room for the provider to come back before the last
      chargeRetryDelaysMs: [200, 200, 1_000, 2_000, 2_000]
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

  const db = () => payments.app.get('db').withSchema(payments.app.get('schema'))
  const pay = async () => {
    const order = await publishPlaced(orders, buyer)
    const made = await call(payments.url, 'POST', '/payments', { token: buyer.token, body: { orderId: order.orderId, card: { token: 'tok_ok' } } })
    expect(made.status).to.equal(202)
    return made.body.id as string
  }
  const chargeJob = (id: string) => db().table('jobs').where({ name: 'charge', key: id }).first()
  const paymentRow = (id: string) => db().table('payments').where({ id }).first()
  const chargesOf = async (id: string) => (await provider!.ledger.statement()).charges.filter((c) => c.idempotencyKey === id)

  it('every attempt unanswered, the lookup by key too: the payment stays pending (never failed), its job failed', async function () {
    const id = await pay()
    const job = await waitFor(async () => {
      const row = await chargeJob(id)
      return row?.state === 'failed' && row
    }, { timeoutMs: 15_000, what: 'the charge job to use up its attempts' })
    expect(job.attempts).to.equal(6)
    expect(job.last_error).to.include('card provider unavailable')
    expect(await paymentRow(id)).to.include({ status: 'pending', reason: null })
    expect(tap.events.filter((e) => e.payload.paymentId === id)).to.have.length(0)

    // the provider is back: the operator runs the job again, which charges once
    provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns }, providerPort)
    expect(await runJobNow(payments.app.get('db'), payments.app.get('schema'), job.id)).to.equal('failed')
    await waitFor(async () => (await paymentRow(id))?.status === 'captured', { timeoutMs: 10_000, what: 'the capture after run-now' })
    expect(await chargesOf(id)).to.have.length(1)
    await provider.stop()
    provider = undefined
  })

  it('the provider back while the job retries: captured with the same key, one charge', async function () {
    const id = await pay()
    await waitFor(async () => (await chargeJob(id))?.attempts >= 2, { timeoutMs: 10_000, what: 'two unanswered attempts' })
    expect((await paymentRow(id)).status).to.equal('pending')
    provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns }, providerPort)
    await waitFor(async () => (await paymentRow(id))?.status === 'captured', { timeoutMs: 10_000, what: 'the capture once the provider is back' })
    expect(await chargesOf(id)).to.have.length(1)
    await tap.next((e) => e.routingKey === 'payment.captured' && e.payload.paymentId === id, { what: 'payment.captured' })
  })
})
