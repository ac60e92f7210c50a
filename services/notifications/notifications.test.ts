import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createNotifications } from './app.ts'

describe('notifications: one email per account event', () => {
  const ns = uniqueNamespace('notifications')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let smtp: TestSmtpServer
  let notifications: RunningApp
  let tap: Bus
  const handled: Envelope[] = []
  let ann: TestIdentity

  const registration = (user: TestIdentity) => ({
    userId: user.id, email: user.email, name: user.name, role: user.role, registeredAt: new Date().toISOString()
  })
  const handledCount = (messageId: string, count: number) =>
    waitFor(() => handled.filter((m) => m.id === messageId).length >= count, { what: `${count} deliveries of ${messageId} handled` })

  before(async () => {
    smtp = await startSmtpServer()
    notifications = await apps.start(createNotifications({ ...env, smtpUrl: smtp.url }, { retryDelaysMs: [100, 100] }))
    notifications.app.get('bus').consumers[0]!.on('handled', (message: Envelope) => handled.push(message))
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    await tap.start()
    ann = identity('buyer', 'Ann')
    await tap.publisher.publish('user.registered', registration(ann))
    await waitFor(() => smtp.to(ann.email).length === 1, { what: "Ann's welcome email" })
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
    await smtp?.close()
  })

  it('a user.registered delivered twice (same message id) sends one welcome email and records one notification', async () => {
    const bob = identity('buyer', 'Bob')
    const messageId = randomUUID()
    await tap.publisher.publish('user.registered', registration(bob), { messageId })
    await tap.publisher.publish('user.registered', registration(bob), { messageId })
    await handledCount(messageId, 2)
    const mails = smtp.to(bob.email)
    expect(mails).to.have.length(1)
    expect(mails[0]!.messageId).to.equal(`<${messageId}.welcome@notifications.bazaar>`)
    expect(mails[0]!.subject).to.equal('Welcome to Bazaar, Bob')
    const sent = await call(notifications.url, 'GET', '/notifications', { token: bob.token })
    expect(sent.body.total).to.equal(1)
  })

  it('a mail server that refuses for a moment delays the email; it is sent, and recorded, once', async () => {
    const cleo = identity('seller', 'Cleo')
    const messageId = randomUUID()
    smtp.failNext(1)
    await tap.publisher.publish('user.registered', registration(cleo), { messageId })
    await waitFor(() => smtp.to(cleo.email).length === 1, { what: "Cleo's welcome email" })
    // The mail reaches the SMTP server before the handler's transaction commits: wait for the handler to be done.
    const delivered = await waitFor(() => {
      const runs = handled.filter((m) => m.id === messageId)
      return runs.length > 0 && runs
    }, { what: 'the handler to finish' })
    expect(delivered.map((m) => m.attempt)).to.deep.equal([2])
    const sent = await call(notifications.url, 'GET', '/notifications', { token: cleo.token })
    expect(sent.body.total).to.equal(1)
  })

  it('a profile change is noticed by email, naming the changed fields', async () => {
    const messageId = randomUUID()
    await tap.publisher.publish('user.updated', {
      userId: ann.id, email: ann.email, name: 'Annie', role: 'buyer', changes: ['name', 'bio'], updatedAt: new Date().toISOString()
    }, { messageId })
    const [, notice] = await waitFor(() => smtp.to(ann.email).length === 2 && smtp.to(ann.email), { what: 'the profile-change notice' })
    expect(notice!.subject).to.equal('Your Bazaar profile was changed')
    expect(notice!.raw).to.include('these fields of your profile were changed: name, bio.')
    expect(notice!.messageId).to.equal(`<${messageId}.profile-changed@notifications.bazaar>`)
  })

  it('GET /notifications lists a user\'s emails newest first, paginated the Feathers way', async () => {
    const page = await call(notifications.url, 'GET', `/notifications?userId=${ann.id}&$limit=1`, { token: ann.token })
    expect(page.status).to.equal(200)
    expect(page.body).to.include({ total: 2, limit: 1, skip: 0 })
    expect(page.body.data).to.have.length(1)
    expect(Object.keys(page.body.data[0]).sort()).to.deep.equal(['id', 'kind', 'sentAt', 'subject', 'to', 'userId'])
    expect(page.body.data[0]).to.include({ userId: ann.id, kind: 'profile-changed', to: ann.email })
    const next = await call(notifications.url, 'GET', `/notifications?userId=${ann.id}&$limit=1&$skip=1`, { token: ann.token })
    expect(next.body.data[0]).to.include({ kind: 'welcome' })
    const welcomes = await call(notifications.url, 'GET', '/notifications?kind=welcome', { token: identity('admin').token })
    expect(welcomes.body.total).to.equal(3)
  })

  describe('who may read notifications', () => {
    const cases: Array<{ who: string; query: () => string; token: () => string | undefined; status: number }> = [
      { who: 'no token', query: () => `?userId=${ann.id}`, token: () => undefined, status: 401 },
      { who: 'a bad token', query: () => `?userId=${ann.id}`, token: () => 'x.y.z', status: 401 },
      { who: 'another user', query: () => `?userId=${ann.id}`, token: () => identity('buyer').token, status: 403 },
      { who: 'the user', query: () => `?userId=${ann.id}`, token: () => ann.token, status: 200 },
      { who: 'the user, without saying whose', query: () => '', token: () => ann.token, status: 200 },
      { who: 'an admin', query: () => `?userId=${ann.id}`, token: () => identity('admin').token, status: 200 }
    ]
    for (const { who, query, token, status } of cases) {
      it(`GET /notifications with ${who}: ${status}`, async () => {
        const answer = await call(notifications.url, 'GET', `/notifications${query()}`, { token: token() })
        expect(answer.status).to.equal(status)
        if (status === 200) expect(answer.body.data.every((n: { userId: string }) => n.userId === ann.id)).to.equal(true)
      })
    }
  })

  describe('bad input is a 4xx naming what is wrong, never a 500', () => {
    const cases: Array<{ what: string; method: string; path: string; status: number; fields?: string[] }> = [
      { what: 'a user id that is not a UUID', method: 'GET', path: '/notifications?userId=ann', status: 400, fields: ['userId'] },
      { what: 'an unknown kind', method: 'GET', path: '/notifications?kind=spam', status: 400, fields: ['kind'] },
      { what: 'an unknown parameter', method: 'GET', path: '/notifications?to=a@b.c', status: 400, fields: ['to'] },
      { what: 'a negative limit', method: 'GET', path: '/notifications?$limit=-1', status: 400, fields: ['$limit'] },
      { what: 'a limit that is not a number', method: 'GET', path: '/notifications?$limit=many', status: 400, fields: ['$limit'] },
      { what: 'a sort by an unknown field', method: 'GET', path: '/notifications?$sort[password]=1', status: 400, fields: ['password'] },
      { what: 'one notification by id', method: 'GET', path: `/notifications/${randomUUID()}`, status: 405 },
      { what: 'writing a notification', method: 'POST', path: '/notifications', status: 405 }
    ]
    for (const { what, method, path, status, fields } of cases) {
      it(`${what}: ${status}`, async () => {
        const answer = await call(notifications.url, method, path, { token: identity('admin').token, body: method === 'POST' ? {} : undefined })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        for (const field of fields ?? []) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }
  })
})
