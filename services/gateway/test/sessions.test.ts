import { expect } from 'chai'
import { TestApps } from '../../../shared/testing/apps.ts'
import { testEnv } from '../../../shared/testing/env.ts'
import { uniqueNamespace } from '../../../shared/testing/namespace.ts'
import type { RunningApp } from '../../../shared/testing/server.ts'
import { waitFor } from '../../../shared/testing/wait.ts'
import { createApp as createUsers } from '../../users/app.ts'
import { logIn, registerUser, type RegisteredUser } from '../../users/testing.ts'
import { createApp as createGateway } from '../app.ts'
import { rawStream } from './raw-stream.ts'
import { call, quickGateway } from './support.ts'

/**
 * Ending a user's sessions (logout, password change) through one gateway
 * instance refuses their older tokens on every instance within about a
 * second: REST requests (401) and open streams (ended), also on an instance
 * started afterwards.
 */
describe('gateway: ended sessions, on every instance', () => {
  const ns = uniqueNamespace('gateway-sessions')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let users: RunningApp
  let a: RunningApp
  let b: RunningApp
  const streams: Array<ReturnType<typeof rawStream>> = []
  const open = (origin: string, token: string) => {
    const stream = rawStream(origin, token)
    streams.push(stream)
    return stream
  }

  before(async () => {
    users = await apps.start(createUsers(env))
    const vars = { ...quickGateway, USERS_URL: users.url }
    a = await apps.start(createGateway(env, vars))
    b = await apps.start(createGateway(env, vars))
  })

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.request.destroy()
  })

  after(() => apps.close())

  /** What the user can do with a token through one instance: their profile (proxied), their appliances (the gateway's own), a stream. */
  async function access(origin: string, user: RegisteredUser, token: string) {
    const profile = await call(origin, 'GET', `/users/${user.id}`, token)
    const appliances = await call(origin, 'GET', '/appliances', token)
    const stream = open(origin, token)
    await waitFor(() => stream.status !== 0, { what: 'an answer to /events' })
    stream.request.destroy()
    return [profile.status, appliances.status, stream.status]
  }

  async function openOnBoth(token: string) {
    const onA = open(a.url, token)
    const onB = open(b.url, token)
    await waitFor(() => onA.status === 200 && onB.status === 200, { what: 'a stream on each instance' })
    return [onA, onB]
  }

  it('logging out on one instance ends the streams on both, and both refuse the old token', async () => {
    const seller = await registerUser(a.url, { role: 'seller' })
    const otherDevice = await logIn(a.url, seller.email, seller.password)
    expect(await access(b.url, seller, otherDevice)).to.deep.equal([200, 200, 200])
    const open = await openOnBoth(otherDevice)

    const logout = await call(a.url, 'DELETE', '/authentication', seller.token)
    expect(logout.status).to.equal(200)
    const loggedOutAt = Date.now()
    await waitFor(() => open.every((s) => s.ended), { timeoutMs: 2_000, what: 'both streams to end' })
    expect(Date.now() - loggedOutAt, 'ms until the streams ended').to.be.below(1_500)
    for (const origin of [a.url, b.url]) {
      expect(await access(origin, seller, otherDevice), origin).to.deep.equal([401, 401, 401])
      expect(await access(origin, seller, seller.token), origin).to.deep.equal([401, 401, 401])
    }
    // a new login is a new session, valid everywhere
    const fresh = await logIn(b.url, seller.email, seller.password)
    for (const origin of [a.url, b.url]) expect(await access(origin, seller, fresh), origin).to.deep.equal([200, 200, 200])
  })

  it('a password change through one instance ends the streams on the other', async () => {
    const buyer = await registerUser(b.url)
    const open = await openOnBoth(buyer.token)
    const changed = await call(b.url, 'PATCH', `/users/${buyer.id}`, buyer.token, { password: 'a-new-password', currentPassword: buyer.password })
    expect(changed.status).to.equal(200)
    await waitFor(() => open.every((s) => s.ended), { timeoutMs: 2_000, what: 'both streams to end' })
    expect((await call(a.url, 'GET', '/appliances', buyer.token)).status).to.equal(401)
  })

  it('an instance started after the logout refuses the old token too', async () => {
    const buyer = await registerUser(a.url)
    expect((await call(a.url, 'DELETE', '/authentication', buyer.token)).status).to.equal(200)
    // once both running instances refuse it, the revocation is recorded
    await waitFor(async () => (await call(b.url, 'GET', '/appliances', buyer.token)).status === 401, { what: 'the revocation to reach b' })
    const late = await apps.start(createGateway(env, { ...quickGateway, USERS_URL: users.url }))
    expect(await access(late.url, buyer, buyer.token)).to.deep.equal([401, 401, 401])
  })
})
