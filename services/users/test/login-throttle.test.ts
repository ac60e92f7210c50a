import { expect } from 'chai'
import { createApp as createGateway } from '../../gateway/app.ts'
import { TestApps } from '../../../shared/testing/apps.ts'
import { testEnv } from '../../../shared/testing/env.ts'
import { call } from '../../../shared/testing/http.ts'
import { uniqueNamespace } from '../../../shared/testing/namespace.ts'
import type { RunningApp } from '../../../shared/testing/server.ts'
import { createApp as createUsers } from '../app.ts'
import { registerUser, type RegisteredUser } from '../testing.ts'

/**
 * Password guessing is throttled per address (3 failures here) and per account (6), with counters in
 * PostgreSQL shared by every users instance. Addresses are what the gateway appended to
 * X-Forwarded-For: tests that call the users service directly send that header as the gateway would.
 */
describe('users: login throttling', () => {
  const ns = uniqueNamespace('users-throttle')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  const limits = { ...process.env, LOGIN_RATE_ADDRESS_POINTS: '3', LOGIN_RATE_ACCOUNT_POINTS: '6', LOGIN_RATE_WINDOW: '10m' }
  let one: RunningApp
  let two: RunningApp
  let gateway: RunningApp
  let address = 0

  before(async () => {
    one = await apps.start(createUsers(env, limits))
    two = await apps.start(createUsers(env, limits))
    gateway = await apps.start(createGateway(env, { ...process.env, USERS_URL: one.url }))
  })

  after(() => apps.close())

  /** A fresh documentation address (TEST-NET-3) per call site. */
  const newAddress = () => `203.0.113.${++address}`
  const login = (url: string, user: RegisteredUser, password: string, from?: string, headers: Record<string, string> = {}) =>
    call(url, 'POST', '/authentication', {
      body: { strategy: 'local', email: user.email, password },
      headers: { ...(from ? { 'x-forwarded-for': from } : {}), ...headers }
    })

  it('an address that failed 3 times gets 429 with Retry-After, even with the right password, on every instance', async () => {
    const ann = await registerUser(one.url)
    const from = newAddress()
    const answers = []
    // alternating instances: they count together
    for (let i = 0; i < 3; i++) answers.push((await login(i % 2 ? two.url : one.url, ann, 'wrong', from)).status)
    expect(answers).to.deep.equal([401, 401, 401])
    const refused = await login(two.url, ann, ann.password, from)
    expect(refused.status).to.equal(429)
    expect(refused.body).to.include({ name: 'TooManyRequests', code: 429, className: 'too-many-requests' })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).to.be.within(1, 600)
    expect(refused.body.data.retryAfter).to.equal(retryAfter)
    // the owner, elsewhere, is not affected by another address's guessing
    expect((await login(one.url, ann, ann.password, newAddress())).status).to.equal(201)
  })

  it('guessing from many addresses locks the account after 6, which a success in between resets', async () => {
    const bob = await registerUser(one.url)
    for (let i = 0; i < 5; i++) expect((await login(one.url, bob, 'wrong', newAddress())).status).to.equal(401)
    // under the account's bound, its owner logs in, and the account's count starts afresh
    const home = newAddress()
    expect((await login(two.url, bob, bob.password, home)).status).to.equal(201)
    for (let i = 0; i < 6; i++) expect((await login(two.url, bob, 'wrong', newAddress())).status).to.equal(401)
    const locked = await login(one.url, bob, 'wrong', newAddress())
    expect(locked.status).to.equal(429)
    expect(locked.body.message).to.match(/account/)
    expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0)
    // beyond the per-account bound the owner waits too (the bound on guesses at one password)
    expect((await login(one.url, bob, bob.password, home)).status).to.equal(429)
    // another account from the same addresses is not affected
    const carol = await registerUser(one.url)
    expect((await login(one.url, carol, carol.password, home)).status).to.equal(201)
  })

  it('a burst of concurrent guesses gets no more than the bound through', async () => {
    const dora = await registerUser(one.url)
    const from = newAddress()
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => login(i % 2 ? two.url : one.url, dora, 'wrong', from).then((a) => a.status)))
    expect(statuses.filter((s) => s === 401)).to.have.length(3)
    expect(statuses.filter((s) => s === 429)).to.have.length(9)
  })

  it('a wrong current password in a password change counts as a failed login', async () => {
    const finn = await registerUser(one.url)
    const from = newAddress()
    const change = (currentPassword: string) =>
      call(one.url, 'PATCH', `/users/${finn.id}`, { token: finn.token, body: { password: 'new-password-1', currentPassword }, headers: { 'x-forwarded-for': from } })
    for (let i = 0; i < 3; i++) expect((await change('wrong')).status).to.equal(400)
    expect((await change(finn.password)).status).to.equal(429)
    expect((await login(one.url, finn, finn.password, from)).status).to.equal(429)
  })

  // last: every direct call of this file without X-Forwarded-For (registerUser's logins) shares the address it blocks
  it('through the gateway, a client cannot pick its address by sending X-Forwarded-For', async () => {
    const eve = await registerUser(one.url)
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await login(gateway.url, eve, 'wrong', newAddress())).status)
    expect(statuses).to.deep.equal([401, 401, 401, 429])
  })
})
