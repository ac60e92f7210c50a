import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { describeOwnRecordRules } from '../../shared/testing/access.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { Management } from '../../shared/testing/broker.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createNotifications } from '../notifications/app.ts'
import { createApp as createSegments } from '../segments/app.ts'
import { createApp as createUsers } from '../users/app.ts'
import { createApp as createBenefits } from './app.ts'

describe('benefits: welcome points for every new user', () => {
  const ns = uniqueNamespace('benefits')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  // Short retries: a failing handler reaches the dead-letter queue in well under a second.
  const fastRetries = { retryDelaysMs: [50, 100] }
  let smtp: TestSmtpServer
  let users: RunningApp
  let benefits: RunningApp
  let segments: RunningApp
  let tap: Bus
  let owner: TestIdentity

  const register = async (name: string) => {
    const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 6)}@example.com`
    const answer = await call(users.url, 'POST', '/users', { body: { email, password: 'long-enough-pw', name, role: 'buyer' } })
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201)
    return answer.body as { id: string; email: string }
  }
  const balancesOf = (app: RunningApp, userIds: string[]) => app.app.get('db').table('balances').whereIn('userId', userIds)

  before(async () => {
    smtp = await startSmtpServer()
    ;[users, , segments, benefits] = await apps.startAll([
      createUsers(env), createNotifications({ ...env, smtpUrl: smtp.url }, fastRetries), createSegments(env, fastRetries), createBenefits(env, fastRetries)
    ])
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    await tap.start()
    owner = identity('buyer', 'owner')
    await tap.publisher.publish('user.registered', {
      userId: owner.id, email: owner.email, name: owner.name, role: 'buyer', registeredAt: new Date().toISOString()
    })
    await waitFor(async () => (await call(benefits.url, 'GET', `/balances/${owner.id}`, { token: owner.token })).status === 200, { what: "the owner's balance" })
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
    await smtp?.close()
  })

  it('a new user gets a balance of the configured welcome points', async () => {
    const answer = await call(benefits.url, 'GET', `/balances/${owner.id}`, { token: owner.token })
    expect(answer.body).to.deep.equal({ userId: owner.id, points: 100 })
  })

  it('while benefits is down nothing is lost: 20 users registered meanwhile all get their balance when it is back', async () => {
    await benefits.stop()
    const registered = await Promise.all(Array.from({ length: 20 }, (_, i) => register(`Patient ${i}`)))
    const ids = registered.map((u) => u.id)
    benefits = await apps.start(createBenefits(env, fastRetries))
    const balances = await waitFor(async () => {
      const rows = await balancesOf(benefits, ids)
      return rows.length === 20 && rows
    }, { timeoutMs: 10_000, what: '20 balances' })
    expect(balances.every((b: { points: number }) => b.points === 100)).to.equal(true)
  })

  it('a handler that keeps failing sends the event to its dead-letter queue with the reason; other subscribers are unaffected', async () => {
    // The bug switch: the database now refuses every new balance.
    const db = benefits.app.get('db')
    await db.raw('alter table balances add constraint bug_switch check (points < 0) not valid')
    try {
      const dlq = names.deadLetterQueue(names.queue(ns, 'benefits', 'user-registrations'))
      const unlucky = await register('Unlucky')
      const [letter] = await waitFor(async () => {
        const messages = await new Management().request<Array<{ payload: string; properties: { headers: Record<string, unknown> } }>>(
          'POST', `/api/queues/%2F/${encodeURIComponent(dlq)}/get`, { count: 10, ackmode: 'ack_requeue_true', encoding: 'auto' }
        )
        const found = messages.filter((m) => JSON.parse(m.payload).userId === unlucky.id)
        return found.length > 0 && found
      }, { timeoutMs: 10_000, what: 'the dead letter' })
      const headers = letter!.properties.headers
      expect(headers[Headers.error]).to.match(/violates check constraint "bug_switch"/)
      expect(headers[Headers.errorKind]).to.equal('handler')
      expect(headers[Headers.attempts]).to.equal(3)
      expect(headers[Headers.originalQueue]).to.equal(names.queue(ns, 'benefits', 'user-registrations'))
      expect(headers[Headers.originalRoutingKey]).to.equal('user.registered')
      // The same event reached everyone else as if nothing happened.
      await waitFor(() => smtp.to(unlucky.email).length === 1, { what: 'the welcome email' })
      const segment = await segments.app.get('db').table('segments').where({ userId: unlucky.id }).first()
      expect(segment).to.deep.equal({ userId: unlucky.id, segment: 'consumers' })
      expect(await balancesOf(benefits, [unlucky.id])).to.have.length(0)
    } finally {
      await db.raw('alter table balances drop constraint if exists bug_switch')
    }
    // Fixed: the next user gets their points again.
    const lucky = await register('Lucky')
    await waitFor(async () => (await balancesOf(benefits, [lucky.id])).length === 1, { what: "the next user's balance" })
  })

  it('WELCOME_POINTS sets the welcome points; a bad value stops the service at start with one clear line', () => {
    const saved = process.env.WELCOME_POINTS
    try {
      process.env.WELCOME_POINTS = '250'
      const app = createBenefits(env)
      expect(app.get('config').welcomePoints).to.equal(250)
      void app.get('db').destroy()
      process.env.WELCOME_POINTS = '-5'
      expect(() => createBenefits(env)).to.throw(/invalid configuration for benefits: \/welcomePoints must be >= 0/)
    } finally {
      if (saved === undefined) delete process.env.WELCOME_POINTS
      else process.env.WELCOME_POINTS = saved
    }
  })

  describeOwnRecordRules('balances', { url: () => benefits.url, owner: () => owner })
})
