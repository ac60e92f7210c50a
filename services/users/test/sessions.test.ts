import { expect } from 'chai'
import jwt from 'jsonwebtoken'
import { Bus } from '../../../shared/bus/bus.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { USER_SESSIONS_REVOKED, type UserSessionsRevoked } from '../../../shared/contracts/index.ts'
import { TestApps } from '../../../shared/testing/apps.ts'
import { testEnv } from '../../../shared/testing/env.ts'
import { call } from '../../../shared/testing/http.ts'
import { uniqueNamespace } from '../../../shared/testing/namespace.ts'
import type { RunningApp } from '../../../shared/testing/server.ts'
import { waitFor } from '../../../shared/testing/wait.ts'
import { createApp as createUsers } from '../app.ts'
import { logIn, registerUser } from '../testing.ts'

describe('users: ending sessions (logout, password change)', () => {
  const ns = uniqueNamespace('users-sessions')
  const apps = new TestApps(ns)
  const admin = { email: 'admin@sessions.test', password: 'admin-password-1' }
  const env = testEnv(ns, { adminEmail: admin.email, adminPassword: admin.password })
  let users: RunningApp
  let tap: Bus
  const revoked: Array<Envelope<typeof USER_SESSIONS_REVOKED>> = []

  before(async () => {
    users = await apps.start(createUsers(env))
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    tap.consumer({
      service: 'test',
      purpose: 'sessions',
      bindings: [USER_SESSIONS_REVOKED],
      handlers: { [USER_SESSIONS_REVOKED]: async (message) => void revoked.push(message) }
    })
    await tap.start()
    await tap.startConsumers()
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
  })

  const eventsOf = (userId: string) => revoked.filter((e) => e.payload.userId === userId).map((e) => e.payload as UserSessionsRevoked)

  it('a token names its session version; DELETE /authentication ends every session of its user, here at once', async () => {
    const ann = await registerUser(users.url)
    const otherDevice = await logIn(users.url, ann.email, ann.password)
    expect(jwt.decode(ann.token)).to.include({ sub: ann.id, sessionVersion: 0 })

    const logout = await call(users.url, 'DELETE', '/authentication', { token: ann.token })
    expect(logout.status, JSON.stringify(logout.body)).to.equal(200)
    expect(logout.body.user).to.include({ id: ann.id, email: ann.email })
    expect(logout.body.user).not.to.have.any.keys('password', 'sessionVersion')

    for (const token of [ann.token, otherDevice]) {
      expect((await call(users.url, 'GET', `/users/${ann.id}`, { token })).status).to.equal(401)
      expect((await call(users.url, 'PATCH', `/users/${ann.id}`, { token, body: { bio: 'still me?' } })).status).to.equal(401)
      expect((await call(users.url, 'POST', '/authentication', { body: { strategy: 'jwt', accessToken: token } })).status).to.equal(401)
      expect((await call(users.url, 'DELETE', '/authentication', { token })).status).to.equal(401)
    }
    const [event] = await waitFor(() => eventsOf(ann.id).length > 0 && eventsOf(ann.id), { what: 'user.sessions_revoked' })
    expect(event).to.include({ userId: ann.id, sessionVersion: 1, reason: 'logout' })

    // logging in again gives a token of the new session
    const fresh = await logIn(users.url, ann.email, ann.password)
    expect(jwt.decode(fresh)).to.include({ sessionVersion: 1 })
    expect((await call(users.url, 'GET', `/users/${ann.id}`, { token: fresh })).status).to.equal(200)
  })

  it('DELETE /authentication without a token is 401', async () => {
    const answer = await call(users.url, 'DELETE', '/authentication')
    expect(answer.status).to.equal(401)
    expect(answer.body).to.include({ name: 'NotAuthenticated', code: 401 })
  })

  it('changing the password needs the current one, ends every session and only the new password logs in', async () => {
    const bob = await registerUser(users.url)
    const wrong = await call(users.url, 'PATCH', `/users/${bob.id}`, { token: bob.token, body: { password: 'new-password-1', currentPassword: 'not-it' } })
    expect(wrong.status).to.equal(400)
    expect(JSON.stringify(wrong.body.data)).to.include('currentPassword')
    expect((await call(users.url, 'GET', `/users/${bob.id}`, { token: bob.token })).status, 'a refused change ends nothing').to.equal(200)

    const changed = await call(users.url, 'PATCH', `/users/${bob.id}`, {
      token: bob.token,
      body: { password: 'new-password-1', currentPassword: bob.password }
    })
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200)
    expect(changed.body).not.to.have.any.keys('password', 'currentPassword', 'sessionVersion')
    expect((await call(users.url, 'GET', `/users/${bob.id}`, { token: bob.token })).status).to.equal(401)
    const old = await call(users.url, 'POST', '/authentication', { body: { strategy: 'local', email: bob.email, password: bob.password } })
    expect(old.status).to.equal(401)
    const fresh = await logIn(users.url, bob.email, 'new-password-1')
    expect((await call(users.url, 'GET', `/users/${bob.id}`, { token: fresh })).status).to.equal(200)
    const [event] = await waitFor(() => eventsOf(bob.id).length > 0 && eventsOf(bob.id), { what: 'user.sessions_revoked' })
    expect(event).to.include({ userId: bob.id, sessionVersion: 1, reason: 'password-changed' })
  })

  it('an admin may set another user’s password without theirs, which ends that user’s sessions', async () => {
    const carol = await registerUser(users.url)
    const adminToken = await logIn(users.url, admin.email, admin.password)
    const reset = await call(users.url, 'PATCH', `/users/${carol.id}`, { token: adminToken, body: { password: 'set-by-admin-1' } })
    expect(reset.status, JSON.stringify(reset.body)).to.equal(200)
    expect((await call(users.url, 'GET', `/users/${carol.id}`, { token: carol.token })).status).to.equal(401)
    expect((await call(users.url, 'GET', `/users/${carol.id}`, { token: adminToken })).status, "the admin's own session goes on").to.equal(200)
    await logIn(users.url, carol.email, 'set-by-admin-1')
  })
})
