import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import { CardProviderClient } from '../../shared/cards/card-provider-client.ts'
import { EventTap, type TappedEvent } from '../../shared/testing/event-tap.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { startCardProvider, type RunningCardProvider } from '../card-provider/app.ts'
import { createApp as createNotifications } from '../notifications/app.ts'
import { createApp } from './app.ts'
import { chargeKey, SUBSCRIPTION_RENEWAL } from './renewals/renewal.ts'

/**
 * Sellers' plans against the real broker, PostgreSQL and the simulated card provider, with TWO instances of
 * the service (both run renewals): a plan is charged once per period, periods in order, each PLAN_PERIOD; a
 * declined card is retried RENEWAL_RETRY_DELAYS, then the plan is past due and its seller gets one email;
 * a failing seller does not hold up another; a cancelled plan ends with its paid period.
 */
describe('subscriptions: sellers’ plans renew per seller in order, once per period', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('subscriptions')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  const PERIOD_MS = 1_500
  const RETRY_DELAYS_MS = [200, 200]
  let provider: RunningCardProvider
  let smtp: TestSmtpServer
  let one: RunningApp
  let two: RunningApp
  let users: Bus
  let tap: EventTap

  /** A seller notifications knows (user.registered, as the users service announces it). */
  const sellers: TestIdentity[] = []
  const seller = async (name: string) => {
    const who = identity('seller', name)
    sellers.push(who)
    await users.publisher.publish('user.registered', { userId: who.id, email: who.email, name: who.name, role: 'seller', registeredAt: new Date().toISOString() })
    return who
  }
  const subscribe = async (who: TestIdentity, token: string, plan = 'basic', app = one) => {
    const response = await call(app.url, 'POST', '/subscriptions', { token: who.token, body: { plan, card: { token } } })
    expect(response.status, JSON.stringify(response.body)).to.equal(201)
    return response.body
  }
  const eventsOf = (subscriptionId: string): TappedEvent[] => tap.events.filter((e) => e.payload.subscriptionId === subscriptionId)
  const renewalsOf = (subscriptionId: string) => eventsOf(subscriptionId).filter((e) => e.routingKey === 'subscription.renewed')
  /** The provider's own ledger: every charge made under this subscription's keys. */
  const ledgerOf = async (subscriptionId: string) =>
    (await provider.ledger.statement()).charges.filter((c) => c.idempotencyKey.startsWith(`subscription:${subscriptionId}:`))
  const capturedPeriods = async (subscriptionId: string) =>
    (await ledgerOf(subscriptionId)).filter((c) => c.status === 'captured').map((c) => Number(/:period:(\d+):/.exec(c.idempotencyKey)![1]))
  const pastDueMails = (who: TestIdentity) => smtp.to(who.email).filter((mail) => mail.subject?.includes('is past due'))

  before(async function () {
    smtp = await startSmtpServer()
    provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns, failures: { slowMs: 300 } })
    const config = { planPeriodMs: PERIOD_MS, cardProviderUrl: provider.url, cardProviderTimeoutMs: 1_000, renewalRetryDelaysMs: RETRY_DELAYS_MS }
    ;[one] = await apps.startAll([createApp(env, config), createNotifications({ ...env, smtpUrl: smtp.url }, { retryDelaysMs: [100, 100] })])
    // the second instance once the first has migrated the schema (two first migrations at once collide)
    two = await apps.start(createApp(env, config))
    tap = await EventTap.open(ns, ['subscription.#'])
    users = new Bus({ url: env.amqpUrl, namespace: ns, service: 'users' })
    await users.start()
  })

  after(async function () {
    await tap?.close()
    await users?.stop()
    await apps.close()
    await provider?.stop()
    await smtp?.close()
  })

  it('a tok_ok plan: period 1 charged at once, then one renewal every PLAN_PERIOD, periods 1, 2, 3 charged once each, in order', async function () {
    const sal = await seller('Sal')
    const sub = await subscribe(sal, 'tok_ok', 'pro')
    expect(sub).to.include({ sellerId: sal.id, plan: 'pro', status: 'active', period: 0, amount: 2_900, currency: 'EUR', cancelAtPeriodEnd: false })
    expect(sub).to.not.have.property('cardToken')
    const start = new Date(sub.createdAt).getTime()
    expect(new Date(sub.currentPeriodEnd).getTime()).to.equal(start + PERIOD_MS)
    // A renewal whose answer was lost: the provider charged period 2's key, the caller never recorded it.
    // When period 2 comes, the job must find that charge by its key rather than make a second.
    const lost = await new CardProviderClient({ url: provider.url }).charge({
      idempotencyKey: chargeKey({ subscriptionId: sub.id, period: 2, attempt: 1 }), token: 'tok_ok', amount: 2_900, currency: 'EUR'
    })

    await waitFor(() => renewalsOf(sub.id).length >= 3, { timeoutMs: 4 * PERIOD_MS + 5_000, what: 'periods 1, 2 and 3 renewed' })
    const renewed = renewalsOf(sub.id).slice(0, 3)
    expect(renewed.map((e) => e.payload.period)).to.deep.equal([1, 2, 3])
    expect(eventsOf(sub.id)[0]!.routingKey, 'subscription.created comes first').to.equal('subscription.created')
    renewed.forEach((e, i) => {
      const n = i + 1
      expect(new Date(e.payload.currentPeriodEnd).getTime(), `period ${n} ends n periods after the start`).to.equal(start + n * PERIOD_MS)
      // period n is charged when period n - 1 ends, never before
      expect(new Date(e.payload.at).getTime(), `period ${n} charged at its start`).to.be.at.least(start + (n - 1) * PERIOD_MS - 50)
    })
    const periods = (await capturedPeriods(sub.id)).filter((p) => p <= 3).sort((a, b) => a - b)
    expect(periods, 'one capture per period in the provider’s ledger').to.deep.equal([1, 2, 3])
    const recorded = await one.app.get('db').withSchema(one.app.get('schema')).table('charges').where({ subscriptionId: sub.id, period: 2 })
    expect(recorded.map((c: { chargeId: string }) => c.chargeId), 'period 2 is the charge the lost answer made').to.deep.equal([lost.chargeId])
    const read = await call(two.url, 'GET', `/subscriptions/${sub.id}`, { token: sal.token })
    expect(read.status).to.equal(200)
    expect(read.body.period).to.be.at.least(3)
    expect(read.body.status).to.equal('active')
    await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: sal.token })
  })

  it('a renewal job run again for a paid period charges nothing and tells nothing', async function () {
    const sol = await seller('Sol')
    const sub = await subscribe(sol, 'tok_ok')
    await waitFor(() => renewalsOf(sub.id).length >= 1, { what: 'period 1 paid' })
    // whichever instance runs it tells its own `fired`
    let ran = false
    const listener = (job: { key: string | null }) => {
      if (job.key === 'run-again') ran = true
    }
    for (const instance of [one, two]) instance.app.get('jobs').on('fired', listener)
    // as if period 1's job ran a second time (an operator's run-now, a copy)
    await one.app.get('jobs').schedule(one.app.get('db'), SUBSCRIPTION_RENEWAL, { key: 'run-again', payload: { subscriptionId: sub.id, period: 1, attempt: 1 } })
    await waitFor(() => ran, { what: 'the repeated job to run' })
    for (const instance of [one, two]) instance.app.get('jobs').off('fired', listener)
    expect(await capturedPeriods(sub.id)).to.include.members([1])
    expect((await capturedPeriods(sub.id)).filter((p) => p === 1)).to.have.length(1)
    expect(renewalsOf(sub.id).filter((e) => e.payload.period === 1)).to.have.length(1)
    await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: sol.token })
  })

  it('two sellers at once, one card declined: that plan is retried, then past due with one email; the other renews on time', async function () {
    const [ok, bad] = [await seller('Olga'), await seller('Dec')]
    const [good, failing] = await Promise.all([subscribe(ok, 'tok_ok'), subscribe(bad, 'tok_declined', 'basic', two)])

    const pastDue = await tap.next((e) => e.routingKey === 'subscription.past_due' && e.payload.subscriptionId === failing.id, { what: 'the declined plan past due' })
    expect(pastDue[0]!.payload).to.include({ sellerId: bad.id, status: 'past_due', period: 0 })
    expect(pastDue[0]!.payload.reason).to.match(/declined/)
    const tries = await ledgerOf(failing.id)
    expect(tries.map((c) => c.status), 'the first try and one per retry delay, all declined').to.deep.equal(['declined', 'declined', 'declined'])
    expect(new Set(tries.map((c) => c.idempotencyKey)).size, 'each try its own key').to.equal(3)

    // meanwhile the other seller's plan keeps its times
    await waitFor(() => renewalsOf(good.id).length >= 2, { timeoutMs: 2 * PERIOD_MS + 5_000, what: 'the good plan’s period 2' })
    const start = new Date(good.createdAt).getTime()
    const second = renewalsOf(good.id)[1]!
    expect(second.payload.period).to.equal(2)
    expect(new Date(second.payload.at).getTime() - (start + PERIOD_MS), 'period 2 charged on time (ms late)').to.be.below(1_000)

    const mails = await waitFor(() => pastDueMails(bad).length >= 1 && pastDueMails(bad), { what: 'the past-due email' })
    // quoted-printable wraps long lines with soft breaks
    expect(mails[0]!.raw.replace(/=\r?\n/g, '')).to.include(failing.id)
    expect(mails[0]!.messageId).to.match(/plan-past-due@notifications\.bazaar>$/)
    // by the time the good plan's period 3 is paid, a second copy of the email would have had its time
    await waitFor(() => renewalsOf(good.id).length >= 3, { timeoutMs: 2 * PERIOD_MS + 5_000, what: 'the good plan’s period 3' })
    expect(pastDueMails(bad), 'exactly one email').to.have.length(1)
    expect(pastDueMails(ok)).to.have.length(0)
    const read = await call(one.url, 'GET', `/subscriptions/${failing.id}`, { token: bad.token })
    expect(read.body).to.include({ status: 'past_due' })
    expect(await capturedPeriods(failing.id)).to.deep.equal([])
    const pending = await one.app.get('db').withSchema(one.app.get('schema')).table('jobs').where({ state: 'pending' }).whereRaw("payload->>'subscriptionId' = ?", [failing.id])
    expect(pending, 'nothing more is scheduled for a past-due plan').to.have.length(0)

    // a past-due plan owes nothing more: cancelling it ends it at once, and the seller may subscribe again
    const cancelled = await call(one.url, 'DELETE', `/subscriptions/${failing.id}`, { token: bad.token })
    expect(cancelled.status).to.equal(200)
    expect(cancelled.body).to.include({ status: 'cancelled' })
    await tap.next((e) => e.routingKey === 'subscription.cancelled' && e.payload.subscriptionId === failing.id, { what: 'subscription.cancelled' })
    await call(one.url, 'DELETE', `/subscriptions/${good.id}`, { token: ok.token })
  })

  it('a card that starts failing after two paid periods: period 3 is retried, then the plan is past due at period 2, one email', async function () {
    const fay = await seller('Fay')
    const sub = await subscribe(fay, 'tok_ok')
    await waitFor(() => renewalsOf(sub.id).length >= 2, { timeoutMs: PERIOD_MS + 5_000, what: 'periods 1 and 2 paid' })
    // the card goes bad at the provider (expired, blocked): what the next charge is made with is refused
    await one.app.get('db').withSchema(one.app.get('schema')).table('subscriptions').where({ id: sub.id }).update({ cardToken: 'tok_declined' })
    const [pastDue] = await tap.next((e) => e.routingKey === 'subscription.past_due' && e.payload.subscriptionId === sub.id, { timeoutMs: PERIOD_MS + 15_000, what: 'past due at period 3' })
    expect(pastDue!.payload).to.include({ status: 'past_due', period: 2, currentPeriodEnd: new Date(new Date(sub.createdAt).getTime() + 2 * PERIOD_MS).toISOString() })
    expect(pastDue!.payload.reason).to.match(/declined for period 3 after 3 tries/)
    expect(new Date(pastDue!.payload.at).getTime(), 'the last try after both retry delays').to.be.at.least(new Date(sub.createdAt).getTime() + 2 * PERIOD_MS + RETRY_DELAYS_MS[0]! + RETRY_DELAYS_MS[1]! - 50)
    expect(eventsOf(sub.id).map((e) => `${e.routingKey}:${e.payload.period}`)).to.deep.equal([
      'subscription.created:0', 'subscription.renewed:1', 'subscription.renewed:2', 'subscription.past_due:2'
    ])
    expect((await ledgerOf(sub.id)).map((c) => c.status)).to.deep.equal(['captured', 'captured', 'declined', 'declined', 'declined'])
    await waitFor(() => pastDueMails(fay).length >= 1, { what: 'the past-due email' })
    expect(pastDueMails(fay)).to.have.length(1)
    await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: fay.token })
  })

  it('subscribing does not wait on the card provider: with it down the plan is created, and period 1 is charged once it is back', async function () {
    const pat = await seller('Pat')
    const port = Number(new URL(provider.url).port)
    await provider.stop()
    const failedFor: string[] = []
    const onFailed = (job: { payload: unknown }) => void failedFor.push((job.payload as { subscriptionId: string }).subscriptionId)
    for (const instance of [one, two]) instance.app.get('jobs').on('failed', onFailed)
    try {
      const sub = await subscribe(pat, 'tok_ok')
      await waitFor(() => failedFor.includes(sub.id), { what: 'its first charge failing on the absent provider' })
      expect(renewalsOf(sub.id)).to.have.length(0)
      provider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace: ns, failures: { slowMs: 300 } }, port)
      // the job's retry (same idempotency key) finds the provider back
      await waitFor(() => renewalsOf(sub.id).length >= 1, { what: 'period 1 paid once the provider is back' })
      // period 1 was paid late, so period 2 (due at the original time) may follow at once: each once
      const periods = await capturedPeriods(sub.id)
      expect(periods.filter((p) => p === 1), 'period 1 charged once').to.have.length(1)
      expect(new Set(periods).size, 'no period twice').to.equal(periods.length)
      await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: pat.token })
    } finally {
      for (const instance of [one, two]) instance.app.get('jobs').off('failed', onFailed)
    }
  })

  it('a plan cancelled during a period stays active to its end, then is cancelled and never charged again', async function () {
    const cam = await seller('Cam')
    const sub = await subscribe(cam, 'tok_ok')
    expect((await call(one.url, 'POST', '/subscriptions', { token: cam.token, body: { plan: 'pro', card: { token: 'tok_ok' } } })).status, 'one live plan per seller').to.equal(409)
    await waitFor(() => renewalsOf(sub.id).length >= 1, { what: 'period 1 paid' })
    const marked = await call(two.url, 'DELETE', `/subscriptions/${sub.id}`, { token: cam.token })
    expect(marked.status).to.equal(200)
    // on a loaded machine the DELETE may land after period 2 began: it ends whichever period it finds paid
    const paid = marked.body.period as number
    expect(marked.body).to.include({ status: 'active', cancelAtPeriodEnd: true })
    expect(paid).to.be.at.least(1)

    const [cancelled] = await tap.next((e) => e.routingKey === 'subscription.cancelled' && e.payload.subscriptionId === sub.id, { timeoutMs: PERIOD_MS + 5_000, what: 'the plan cancelled at its period end' })
    expect(new Date(cancelled!.payload.at).getTime(), 'not before the paid period ended').to.be.at.least(new Date(marked.body.currentPeriodEnd).getTime() - 50)
    expect(cancelled!.payload).to.include({ status: 'cancelled', period: paid })
    const periods = Array.from({ length: paid }, (_, i) => i + 1)
    expect(await capturedPeriods(sub.id), 'only the paid periods were charged').to.deep.equal(periods)
    expect((await ledgerOf(sub.id)).length).to.equal(paid)
    expect(eventsOf(sub.id).map((e) => e.routingKey)).to.deep.equal(['subscription.created', ...periods.map(() => 'subscription.renewed'), 'subscription.cancelled'])
    const read = await call(one.url, 'GET', `/subscriptions/${sub.id}`, { token: cam.token })
    expect(read.body).to.include({ status: 'cancelled' })
    // the seller may take a plan again
    const again = await subscribe(cam, 'tok_ok', 'pro', two)
    const mine = await call(one.url, 'GET', '/subscriptions', { token: cam.token })
    expect(mine.body.data.map((s: { id: string }) => s.id)).to.deep.equal([again.id, sub.id])
    await call(one.url, 'DELETE', `/subscriptions/${again.id}`, { token: cam.token })
  })

  it('across every plan of this file, run by both instances: the provider holds at most one capture per (subscription, period)', async function () {
    const { charges } = await provider.ledger.statement()
    const captured = charges.filter((c) => c.status === 'captured' && c.idempotencyKey.startsWith('subscription:'))
    expect(captured.length, 'the file made captures').to.be.at.least(10)
    const periods = captured.map((c) => /^subscription:([^:]+):period:(\d+):/.exec(c.idempotencyKey)!.slice(1, 3).join('/'))
    expect(new Set(periods).size, 'no (subscription, period) captured twice').to.equal(periods.length)
    // and what the service recorded is what the provider holds
    const recorded = await one.app.get('db').withSchema(one.app.get('schema')).table('charges').where({ status: 'captured' })
    expect(recorded.map((c: { chargeId: string }) => c.chargeId).sort()).to.deep.equal(captured.map((c) => c.id).sort())
  })

  it('bad input is a 400 naming the fields; only sellers subscribe, and only a plan’s seller (or an admin) reads or cancels it', async function () {
    const sue = await seller('Sue')
    const bodies: Array<[unknown, string]> = [
      [{ plan: 'gold', card: { token: 'tok_ok' } }, 'plan'],
      [{ plan: 'basic' }, 'card'],
      [{ plan: 'basic', card: { token: 'not a token' } }, 'token'],
      [{ plan: 'basic', card: { token: 'tok_ok' }, price: 1 }, 'price']
    ]
    for (const [body, field] of bodies) {
      const response = await call(one.url, 'POST', '/subscriptions', { token: sue.token, body })
      expect(response.status, JSON.stringify(body)).to.equal(400)
      expect(JSON.stringify(response.body.data), `names ${field}`).to.include(field)
    }
    expect((await call(one.url, 'POST', '/subscriptions', { body: { plan: 'basic', card: { token: 'tok_ok' } } })).status).to.equal(401)
    expect((await call(one.url, 'POST', '/subscriptions', { token: identity('buyer').token, body: { plan: 'basic', card: { token: 'tok_ok' } } })).status).to.equal(403)
    const sub = await subscribe(sue, 'tok_ok')
    const other = identity('seller')
    expect((await call(one.url, 'GET', `/subscriptions/${sub.id}`, { token: other.token })).status).to.equal(403)
    expect((await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: other.token })).status).to.equal(403)
    expect((await call(one.url, 'GET', `/subscriptions/${sub.id}`, { token: identity('admin').token })).status).to.equal(200)
    expect((await call(one.url, 'GET', '/subscriptions/not-a-uuid', { token: sue.token })).status).to.equal(404)
    expect((await call(one.url, 'GET', '/subscriptions', { token: other.token })).body.data).to.deep.equal([])
    expect((await call(one.url, 'GET', `/subscriptions?sellerId=${sue.id}`, { token: other.token })).body.data, 'a seller sees only their own').to.deep.equal([])
    const bySeller = await call(one.url, 'GET', `/subscriptions?sellerId=${sue.id}`, { token: identity('admin').token })
    expect(bySeller.body.data.map((s: { id: string }) => s.id), 'an admin lists one seller’s').to.deep.equal([sub.id])
    expect((await call(one.url, 'GET', '/subscriptions?status=bogus', { token: sue.token })).status).to.equal(400)
    await call(one.url, 'DELETE', `/subscriptions/${sub.id}`, { token: sue.token })
  })
})
