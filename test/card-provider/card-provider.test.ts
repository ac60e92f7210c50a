import { expect } from 'chai'
import { startCardProvider, type RunningCardProvider } from '../../services/card-provider/app.ts'
import { CardProviderClient, CardProviderRefused, CardProviderUnavailable } from '../../shared/cards/card-provider-client.ts'
import { readEnv } from '../../shared/config/env.ts'
import { dropNamespaceSchemas } from '../../shared/testing/database.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'

/**
 * The simulated card provider and Bazaar's client of it: one idempotency key is one charge whatever the
 * caller retries, also when the provider made the charge and its answer was lost (tok_flaky, tok_slow).
 */
describe('card provider: one charge per idempotency key, whatever is retried', function () {
  this.timeout(20_000)
  const ns = uniqueNamespace('card-provider')
  let provider: RunningCardProvider
  let client: CardProviderClient

  before(async function () {
    provider = await startCardProvider({ databaseUrl: readEnv().databaseUrl, namespace: ns, failures: { slowMs: 800, flakyErrors: 1 } })
    // attempts time out well before tok_slow answers: the retry must find the charge the first attempt made
    client = new CardProviderClient({ url: provider.url, timeoutMs: 300, retries: 4, minDelayMs: 20 })
  })

  after(async function () {
    await provider?.stop()
    await dropNamespaceSchemas(ns)
  })

  const chargesOf = async (key: string) => (await provider.ledger.statement()).charges.filter((c) => c.idempotencyKey === key)

  it('tok_ok captures, and the same key asked again returns the same charge', async function () {
    const first = await client.charge({ idempotencyKey: 'pay-ok', token: 'tok_ok', amount: 1200, currency: 'EUR' })
    const again = await client.charge({ idempotencyKey: 'pay-ok', token: 'tok_ok', amount: 1200, currency: 'EUR' })
    expect(first.status).to.equal('captured')
    expect(again).to.deep.equal(first)
    expect(await chargesOf('pay-ok')).to.have.length(1)
  })

  it('tok_declined is an answer with its reason, not a failure, and is not retried into a capture', async function () {
    const outcome = await client.charge({ idempotencyKey: 'pay-declined', token: 'tok_declined', amount: 500, currency: 'EUR' })
    expect(outcome).to.include({ status: 'declined', reason: 'declined' })
    expect((await chargesOf('pay-declined')).map((c) => c.status)).to.deep.equal(['declined'])
  })

  it('tok_flaky errors, then captures with an answer too late for the caller; the retry finds that one charge', async function () {
    const outcome = await client.charge({ idempotencyKey: 'pay-flaky', token: 'tok_flaky', amount: 700, currency: 'EUR' })
    expect(outcome.status).to.equal('captured')
    const charges = await chargesOf('pay-flaky')
    expect(charges.map((c) => c.id)).to.deep.equal([outcome.chargeId])
  })

  it('tok_slow captures once although every attempt times out before its answer', async function () {
    const outcome = await client.charge({ idempotencyKey: 'pay-slow', token: 'tok_slow', amount: 900, currency: 'EUR' })
    expect(outcome.status).to.equal('captured')
    expect(await chargesOf('pay-slow')).to.have.length(1)
    expect(await client.findCharge('pay-slow')).to.deep.equal(outcome)
    expect(await client.findCharge('pay-never-made')).to.equal(undefined)
  })

  it('a key reused for another amount is refused, and nothing is charged', async function () {
    const reused = await client.charge({ idempotencyKey: 'pay-ok', token: 'tok_ok', amount: 9999, currency: 'EUR' }).catch((err) => err)
    expect(reused).to.be.instanceOf(CardProviderRefused).and.have.property('status', 409)
    expect(await chargesOf('pay-ok')).to.have.length(1)
  })

  it('a capture is refunded once, whatever key a second refund carries', async function () {
    const charge = await client.charge({ idempotencyKey: 'pay-refund', token: 'tok_ok', amount: 300, currency: 'EUR' })
    if (charge.status !== 'captured') throw new Error('expected a capture')
    const first = await client.refund({ idempotencyKey: 'refund-1', chargeId: charge.chargeId })
    const second = await client.refund({ idempotencyKey: 'refund-2', chargeId: charge.chargeId })
    expect(second.refundId).to.equal(first.refundId)
    expect((await provider.ledger.statement()).refunds.filter((r) => r.chargeId === charge.chargeId)).to.have.length(1)
  })

  it('a provider that is down is reported as unavailable after the retries, never as a decline', async function () {
    const down = new CardProviderClient({ url: 'http://127.0.0.1:9', timeoutMs: 200, retries: 1, minDelayMs: 10 })
    const err = await down.charge({ idempotencyKey: 'pay-down', token: 'tok_ok', amount: 100, currency: 'EUR' }).catch((e) => e)
    expect(err).to.be.instanceOf(CardProviderUnavailable)
  })

  it('bad requests get 400 naming the fields', async function () {
    const response = await fetch(`${provider.url}/v1/charges`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k' }, body: JSON.stringify({ token: 'x', amount: -1 }) })
    expect(response.status).to.equal(400)
    expect((await response.json()).data).to.have.keys('token', 'amount', 'currency')
  })
})
