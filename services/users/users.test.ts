import { expect } from 'chai'
import jwt from 'jsonwebtoken'
import { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { verifyUserToken } from '../../shared/feathers/auth.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createBenefits } from '../benefits/app.ts'
import { createApp as createNotifications } from '../notifications/app.ts'
import { createApp as createSegments } from '../segments/app.ts'
import { createApp as createUsers } from './app.ts'
import { logIn, registerUser, type RegisteredUser } from './testing.ts'

describe('users: registration, login and profiles', () => {
  const ns = uniqueNamespace('users')
  const apps = new TestApps(ns)
  const admin = { email: 'admin@bazaar.test', password: 'admin-password-1' }
  const env = testEnv(ns, { adminEmail: admin.email, adminPassword: admin.password })
  let smtp: TestSmtpServer
  let users: RunningApp
  let notifications: RunningApp
  let benefits: RunningApp
  let segments: RunningApp
  let tap: Bus
  const userEvents: Envelope[] = []
  let adminToken: string
  let ann: RegisteredUser
  let bob: RegisteredUser

  before(async () => {
    smtp = await startSmtpServer()
    const withSmtp = { ...env, smtpUrl: smtp.url }
    ;[users, notifications, benefits, segments] = await apps.startAll([
      createUsers(env), createNotifications(withSmtp), createBenefits(env, { welcomePoints: 150 }),
      createSegments(env, { segmentRules: [{ segment: 'merchants', role: 'seller' }] })
    ])
    // The test's own subscriber to user events, to see exactly what users publishes.
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    const record = async (message: Envelope) => void userEvents.push(message)
    tap.consumer({ service: 'test', purpose: 'user-events', bindings: ['user.#'], handlers: { 'user.registered': record, 'user.updated': record } })
    await tap.start()
    await tap.startConsumers()
    adminToken = await logIn(users.url, admin.email, admin.password)
    ann = await registerUser(users.url, { role: 'buyer', name: 'Ann' })
    bob = await registerUser(users.url, { role: 'seller', name: 'Bob' })
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
    await smtp?.close()
  })

  it('a new user gets exactly one welcome email, the welcome points and a segment, within seconds', async () => {
    const carol = await registerUser(users.url, { role: 'seller', name: 'Carol' })
    const [mail] = await waitFor(() => smtp.to(carol.email).length > 0 && smtp.to(carol.email), { timeoutMs: 5_000, what: 'the welcome email' })
    const balance = await waitFor(async () => {
      const answer = await call(benefits.url, 'GET', `/balances/${carol.id}`, { token: carol.token })
      return answer.status === 200 && answer.body
    }, { timeoutMs: 5_000, what: 'the balance' })
    const segment = await waitFor(async () => {
      const answer = await call(segments.url, 'GET', `/segments/${carol.id}`, { token: carol.token })
      return answer.status === 200 && answer.body
    }, { timeoutMs: 5_000, what: 'the segment' })

    expect(balance).to.deep.equal({ userId: carol.id, points: 150 })
    expect(segment).to.deep.equal({ userId: carol.id, segment: 'merchants' })
    expect(mail!.subject).to.equal('Welcome to Bazaar, Carol')
    expect(mail!.messageId).to.match(/^<.+\.welcome@notifications\.bazaar>$/)
    const sent = await call(notifications.url, 'GET', `/notifications?userId=${carol.id}`, { token: carol.token })
    expect(sent.body.total).to.equal(1)
    expect(sent.body.data[0]).to.include({ userId: carol.id, kind: 'welcome', to: carol.email })
    expect(smtp.to(carol.email)).to.have.length(1)
  })

  it('registration answers 201 with the account and never the password; user.registered carries it too', async () => {
    const answer = await call(users.url, 'POST', '/users', {
      body: { email: 'Dora.Explorer@Example.com', password: 'long-enough-pw', name: 'Dora', role: 'buyer' }
    })
    expect(answer.status).to.equal(201)
    expect(answer.body).to.include({ email: 'dora.explorer@example.com', name: 'Dora', role: 'buyer' })
    expect(answer.body.id).to.match(/^[0-9a-f-]{36}$/)
    expect(Date.parse(answer.body.createdAt)).to.be.a('number').and.not.NaN
    expect(answer.body).not.to.have.property('password')
    const [event] = await waitFor(() => {
      const found = userEvents.filter((e) => e.routingKey === 'user.registered' && (e.payload as { userId: string }).userId === answer.body.id)
      return found.length > 0 && found
    }, { what: 'user.registered' })
    expect(event!.payload).to.deep.equal({
      userId: answer.body.id, email: 'dora.explorer@example.com', name: 'Dora', role: 'buyer', timeZone: 'UTC', registeredAt: answer.body.createdAt, version: 1
    })
    expect(event!.appId).to.equal('users')
  })

  it('an email can be registered once, whatever its case (409)', async () => {
    const again = await call(users.url, 'POST', '/users', {
      body: { email: ann.email.toUpperCase(), password: 'another-password', name: 'Ann again', role: 'seller' }
    })
    expect(again.status).to.equal(409)
    expect(again.body).to.include({ name: 'Conflict', code: 409 })
  })

  it('logging in answers a token that other services verify, naming role, email and name, and stamps lastLoginAt', async () => {
    const before = await call(users.url, 'GET', `/users/${bob.id}`, { token: bob.token })
    const login = await call(users.url, 'POST', '/authentication', { body: { strategy: 'local', email: bob.email, password: bob.password } })
    expect(login.status).to.equal(201)
    expect(login.body.user).to.include({ id: bob.id, email: bob.email, name: 'Bob', role: 'seller' })
    expect(login.body.user).not.to.have.property('password')
    expect(Date.parse(login.body.user.lastLoginAt)).to.be.greaterThan(Date.parse(before.body.lastLoginAt))
    expect(verifyUserToken(login.body.accessToken, env.jwtSecret)).to.deep.equal({ id: bob.id, role: 'seller', email: bob.email, name: 'Bob' })
    expect(jwt.decode(login.body.accessToken)).to.include({ sub: bob.id, role: 'seller', email: bob.email, name: 'Bob' })
    const after = await call(users.url, 'GET', `/users/${bob.id}`, { token: bob.token })
    expect(after.body.lastLoginAt).to.equal(login.body.user.lastLoginAt)
  })

  it('a wrong password or an unknown email is 401, and stamps nothing', async () => {
    const before = await call(users.url, 'GET', `/users/${ann.id}`, { token: ann.token })
    const wrong = await call(users.url, 'POST', '/authentication', { body: { strategy: 'local', email: ann.email, password: 'not-it' } })
    const unknown = await call(users.url, 'POST', '/authentication', { body: { strategy: 'local', email: 'nobody@example.com', password: 'x' } })
    expect([wrong.status, unknown.status]).to.deep.equal([401, 401])
    const after = await call(users.url, 'GET', `/users/${ann.id}`, { token: ann.token })
    expect(after.body.lastLoginAt).to.equal(before.body.lastLoginAt)
  })

  it('the admin of ADMIN_EMAIL is created at start, once', async () => {
    const again = await apps.start(createUsers(env))
    const admins = await again.app.get('db').table('users').where({ email: admin.email })
    expect(admins).to.have.length(1)
    expect(admins[0].role).to.equal('admin')
    await again.stop()
  })

  it('a profile change emits user.updated naming the changed fields; a patch that changes nothing emits nothing', async () => {
    const renamed = await call(users.url, 'PATCH', `/users/${ann.id}`, { token: ann.token, body: { name: 'Annie' } })
    expect(renamed.status).to.equal(200)
    expect(renamed.body).to.include({ id: ann.id, name: 'Annie' })
    await call(users.url, 'PATCH', `/users/${ann.id}`, { token: ann.token, body: { name: 'Annie' } })
    await call(users.url, 'PATCH', `/users/${ann.id}`, { token: adminToken, body: { bio: 'Collects stamps' } })
    const updates = await waitFor(() => {
      const found = userEvents.filter((e) => e.routingKey === 'user.updated' && (e.payload as { userId: string }).userId === ann.id)
      return found.length >= 2 && found
    }, { what: 'two user.updated' })
    expect(updates.map((e) => (e.payload as { changes: string[] }).changes)).to.deep.equal([['name'], ['bio']])
    expect(updates[1]!.payload).to.include({ userId: ann.id, email: ann.email, name: 'Annie', role: 'buyer' })
  })

  it('a user starts in UTC and may choose their IANA time zone; user.updated carries it', async () => {
    const read = await call(users.url, 'GET', `/users/${bob.id}`, { token: bob.token })
    expect(read.body.timeZone).to.equal('UTC')
    const moved = await call(users.url, 'PATCH', `/users/${bob.id}`, { token: bob.token, body: { timeZone: 'Asia/Tokyo' } })
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200)
    expect(moved.body.timeZone).to.equal('Asia/Tokyo')
    const update = await waitFor(() => userEvents.find((e) => e.routingKey === 'user.updated' && (e.payload as { userId: string }).userId === bob.id), {
      what: "Bob's user.updated"
    })
    expect(update.payload).to.include({ timeZone: 'Asia/Tokyo' })
    expect((update.payload as { changes: string[] }).changes).to.deep.equal(['timeZone'])
    const registered = userEvents.find((e) => e.routingKey === 'user.registered' && (e.payload as { userId: string }).userId === bob.id)
    expect(registered?.payload).to.include({ timeZone: 'UTC' })
  })

  describe('who may read and change a profile', () => {
    const cases: Array<{ who: string; token: () => string | undefined; status: number }> = [
      { who: 'no token', token: () => undefined, status: 401 },
      { who: 'a malformed token', token: () => 'not.a.token', status: 401 },
      { who: 'a token signed with another secret', token: () => identity('admin', 'forger', 'another-secret').token, status: 401 },
      { who: 'another user', token: () => bob.token, status: 403 },
      { who: 'the user', token: () => ann.token, status: 200 },
      { who: 'an admin', token: () => adminToken, status: 200 }
    ]
    for (const { who, token, status } of cases) {
      it(`GET and PATCH /users/:id with ${who}: ${status}`, async () => {
        const read = await call(users.url, 'GET', `/users/${ann.id}`, { token: token() })
        const write = await call(users.url, 'PATCH', `/users/${ann.id}`, { token: token(), body: { bio: `set by ${who}` } })
        expect([read.status, write.status]).to.deep.equal([status, status])
        if (status === 200) expect(read.body).not.to.have.property('password')
      })
    }
  })

  describe('bad input is a 4xx naming what is wrong, never a 500', () => {
    const good = { email: 'eve@example.com', password: 'long-enough-pw', name: 'Eve', role: 'buyer' }
    const cases: Array<{ what: string; method: string; path: () => string; body?: unknown; token?: () => string; status: number; fields?: string[] }> = [
      { what: 'registration without a body', method: 'POST', path: () => '/users', status: 400 },
      { what: 'registration with malformed JSON', method: 'POST', path: () => '/users', body: '{"email": ', status: 400 },
      { what: 'registration with missing fields', method: 'POST', path: () => '/users', body: { email: 'x@example.com' }, status: 400, fields: ['password', 'name', 'role'] },
      { what: 'registration with wrong types', method: 'POST', path: () => '/users', body: { ...good, password: 12345678, name: ['Eve'] }, status: 400, fields: ['password', 'name'] },
      { what: 'registration with an unknown field', method: 'POST', path: () => '/users', body: { ...good, isAdmin: true }, status: 400, fields: ['isAdmin'] },
      { what: 'registration as admin', method: 'POST', path: () => '/users', body: { ...good, role: 'admin' }, status: 400, fields: ['role'] },
      { what: 'registration with a bad email', method: 'POST', path: () => '/users', body: { ...good, email: 'eve-at-example' }, status: 400, fields: ['email'] },
      { what: 'registration with a short password', method: 'POST', path: () => '/users', body: { ...good, password: 'short' }, status: 400, fields: ['password'] },
      { what: 'registration with a blank name', method: 'POST', path: () => '/users', body: { ...good, name: '   ' }, status: 400, fields: ['name'] },
      { what: 'registration with an array', method: 'POST', path: () => '/users', body: [good], status: 400 },
      { what: 'registration with server-owned fields', method: 'POST', path: () => '/users', body: { ...good, id: '00000000-0000-4000-8000-000000000001', lastLoginAt: null }, status: 400, fields: ['id'] },
      { what: 'an empty patch', method: 'PATCH', path: () => `/users/${ann.id}`, body: {}, token: () => ann.token, status: 400 },
      { what: 'a patch with wrong types', method: 'PATCH', path: () => `/users/${ann.id}`, body: { name: 5, bio: false }, token: () => ann.token, status: 400, fields: ['name', 'bio'] },
      { what: 'a patch of the role', method: 'PATCH', path: () => `/users/${ann.id}`, body: { role: 'admin' }, token: () => ann.token, status: 400, fields: ['role'] },
      { what: 'a patch of the email', method: 'PATCH', path: () => `/users/${ann.id}`, body: { email: 'new@example.com' }, token: () => ann.token, status: 400, fields: ['email'] },
      { what: 'a password change without the current password', method: 'PATCH', path: () => `/users/${ann.id}`, body: { password: 'new-password' }, token: () => ann.token, status: 400, fields: ['currentPassword'] },
      { what: 'a too short new password', method: 'PATCH', path: () => `/users/${ann.id}`, body: () => ({ password: 'short', currentPassword: ann.password }), token: () => ann.token, status: 400, fields: ['password'] },
      { what: 'a time zone Intl does not know', method: 'PATCH', path: () => `/users/${ann.id}`, body: { timeZone: 'Mars/Olympus_Mons' }, token: () => ann.token, status: 400, fields: ['timeZone'] },
      { what: 'a UTC offset for a time zone', method: 'PATCH', path: () => `/users/${ann.id}`, body: { timeZone: '+01:00' }, token: () => ann.token, status: 400, fields: ['timeZone'] },
      { what: 'a time zone that is not a string', method: 'PATCH', path: () => `/users/${ann.id}`, body: { timeZone: 1 }, token: () => ann.token, status: 400, fields: ['timeZone'] },
      { what: 'registration in an unknown time zone', method: 'POST', path: () => '/users', body: { ...good, timeZone: 'Nowhere' }, status: 400, fields: ['timeZone'] },
      { what: 'a too long bio', method: 'PATCH', path: () => `/users/${ann.id}`, body: { bio: 'x'.repeat(501) }, token: () => ann.token, status: 400, fields: ['bio'] },
      { what: 'a patch of every user at once', method: 'PATCH', path: () => '/users', body: { name: 'All' }, token: () => adminToken, status: 405 },
      { what: 'a user id that is not a UUID', method: 'GET', path: () => '/users/42', token: () => adminToken, status: 404 },
      { what: 'a patch of an id that is not a UUID', method: 'PATCH', path: () => "/users/1' or '1'='1", body: { name: 'x' }, token: () => adminToken, status: 404 },
      { what: 'an unknown user', method: 'GET', path: () => '/users/00000000-0000-4000-8000-000000000000', token: () => adminToken, status: 404 },
      { what: 'an unknown query parameter', method: 'GET', path: () => `/users/${ann.id}?expand=all`, token: () => ann.token, status: 400, fields: ['expand'] },
      { what: 'listing users', method: 'GET', path: () => '/users', token: () => adminToken, status: 405 },
      { what: 'a login without a body', method: 'POST', path: () => '/authentication', status: 400 },
      { what: 'a login with missing fields', method: 'POST', path: () => '/authentication', body: { strategy: 'local' }, status: 400, fields: ['email', 'password'] },
      { what: 'a login with wrong types', method: 'POST', path: () => '/authentication', body: { strategy: 'local', email: 7, password: true }, status: 400, fields: ['email', 'password'] },
      { what: 'a login with an unknown field', method: 'POST', path: () => '/authentication', body: () => ({ strategy: 'local', email: ann.email, password: ann.password, remember: true }), status: 400, fields: ['remember'] },
      { what: 'a login with an unknown strategy', method: 'POST', path: () => '/authentication', body: () => ({ strategy: 'oauth', email: ann.email, password: ann.password }), status: 400, fields: ['strategy'] },
      { what: 'a token exchange without a token', method: 'POST', path: () => '/authentication', body: { strategy: 'jwt' }, status: 400, fields: ['accessToken'] },
      { what: 'a token exchange with a bad token', method: 'POST', path: () => '/authentication', body: { strategy: 'jwt', accessToken: 'nope' }, status: 401 }
    ]
    for (const { what, method, path, body, token, status, fields } of cases) {
      it(`${what}: ${status}`, async () => {
        const answer = await call(users.url, method, path(), { body: typeof body === 'function' ? body() : body, token: token?.() })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        expect(answer.body).to.include({ code: status })
        for (const field of fields ?? []) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }
  })
})
