import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { json, login, register, type Actor } from '../support/identities.ts'
import { loadManifests } from '../../scripts/docs/manifests.ts'

type Who = 'anonymous' | 'buyerA' | 'buyerB' | 'sellerA' | 'sellerB' | 'admin'
const everyone: Who[] = ['anonymous', 'buyerA', 'buyerB', 'sellerA', 'sellerB', 'admin']

/**
 * Who may do what, cell by cell: every contract path and the SSE stream, six
 * identities, the exact answer each gets. Nobody sees or changes what is not
 * theirs; forged and tampered tokens are refused.
 */
describe('isolation: every path against six identities', function () {
  this.timeout(180_000)
  const namespace = uniqueNamespace('isolation')
  const adminEmail = `admin.${namespace}@example.com`
  const adminPassword = `admin-${randomUUID()}`
  let stack: Stack
  const actors = {} as Record<Who, Actor>
  const ids: Record<string, string> = {}

  before(async () => {
    stack = await startStack(namespace, { adminEmail, adminPassword })
    const base = stack.base
    actors.anonymous = { label: 'anonymous' }
    actors.buyerA = await register(base, 'buyer', 'Buyer A')
    actors.buyerB = await register(base, 'buyer', 'Buyer B')
    actors.sellerA = await register(base, 'seller', 'Seller A')
    actors.sellerB = await register(base, 'seller', 'Seller B')
    actors.admin = { label: 'admin', email: adminEmail, token: await login(base, adminEmail, adminPassword) }
    const productA = await json(base, 'POST', '/products', { title: 'A lamp', description: 'a', price: 100, currency: 'EUR', stock: 100 }, actors.sellerA.token)
    const productB = await json(base, 'POST', '/products', { title: 'B lamp', description: 'b', price: 100, currency: 'EUR', stock: 100 }, actors.sellerB.token)
    ids.productA = productA.body.id
    ids.productB = productB.body.id
    ids.orderA = (await placeOrder(base, actors.buyerA.token!, ids.productA)).id
    ids.orderB = (await placeOrder(base, actors.buyerB.token!, ids.productB)).id
    ids.roomA = (await json(base, 'POST', '/chatrooms', { title: 'A and seller A', memberIds: [actors.sellerA.id] }, actors.buyerA.token)).body.id
    ids.applianceA = (await json(base, 'POST', '/appliances', { name: 'A printer' }, actors.sellerA.token)).body.id
    // balances and segments arrive through events: wait until buyer A's exist
    for (const path of [`/balances/${actors.buyerA.id}`, `/segments/${actors.buyerA.id}`]) {
      await waitFor(async () => (await json(base, 'GET', path, undefined, actors.admin.token)).status === 200, { timeoutMs: 20_000, what: path })
    }
  })

  after(async () => {
    await stack?.stop()
  })

  async function placeOrder(base: string, token: string, productId: string) {
    return waitFor(async () => {
      const answer = await json(base, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, token)
      return answer.status === 201 ? answer.body : undefined
    }, { timeoutMs: 20_000, what: 'an order once the product reached the orders projection' })
  }

  interface Row {
    what: string
    method: string
    path: () => string
    body?: () => unknown
    expect: Record<Who, number>
  }

  const ownUser = (): Record<Who, number> => ({ anonymous: 401, buyerA: 200, buyerB: 403, sellerA: 403, sellerB: 403, admin: 200 })
  const rows: Row[] = [
    { what: "read buyer A's profile", method: 'GET', path: () => `/users/${actors.buyerA.id}`, expect: ownUser() },
    { what: "rename buyer A", method: 'PATCH', path: () => `/users/${actors.buyerA.id}`, body: () => ({ name: 'Buyer A' }), expect: ownUser() },
    { what: "read buyer A's balance", method: 'GET', path: () => `/balances/${actors.buyerA.id}`, expect: ownUser() },
    { what: "read buyer A's segment", method: 'GET', path: () => `/segments/${actors.buyerA.id}`, expect: ownUser() },
    { what: "read buyer A's notifications", method: 'GET', path: () => `/notifications?userId=${actors.buyerA.id}`, expect: ownUser() },
    {
      what: 'create a product', method: 'POST', path: () => '/products',
      body: () => ({ title: 'New', description: 'n', price: 1, currency: 'EUR', stock: 1 }),
      expect: { anonymous: 401, buyerA: 403, buyerB: 403, sellerA: 201, sellerB: 201, admin: 403 }
    },
    {
      what: "patch seller A's product", method: 'PATCH', path: () => `/products/${ids.productA}`, body: () => ({ stock: 100 }),
      expect: { anonymous: 401, buyerA: 403, buyerB: 403, sellerA: 200, sellerB: 403, admin: 403 }
    },
    { what: "read seller A's product", method: 'GET', path: () => `/products/${ids.productA}`, expect: { anonymous: 200, buyerA: 200, buyerB: 200, sellerA: 200, sellerB: 200, admin: 200 } },
    { what: "list seller A's products", method: 'GET', path: () => `/products?sellerId=${actors.sellerA.id}`, expect: { anonymous: 200, buyerA: 200, buyerB: 200, sellerA: 200, sellerB: 200, admin: 200 } },
    {
      what: 'place an order', method: 'POST', path: () => '/orders', body: () => ({ items: [{ productId: ids.productA, quantity: 1 }] }),
      expect: { anonymous: 401, buyerA: 201, buyerB: 201, sellerA: 403, sellerB: 403, admin: 403 }
    },
    { what: "read buyer A's order", method: 'GET', path: () => `/orders/${ids.orderA}`, expect: { anonymous: 401, buyerA: 200, buyerB: 403, sellerA: 200, sellerB: 403, admin: 200 } },
    {
      what: "open a claim on buyer A's order", method: 'POST', path: () => '/claims', body: () => ({ orderId: ids.orderA, reason: 'broken' }),
      expect: { anonymous: 401, buyerA: 201, buyerB: 403, sellerA: 403, sellerB: 403, admin: 403 }
    },
    {
      what: 'create a chatroom', method: 'POST', path: () => '/chatrooms', body: () => ({ title: 'Hello', memberIds: [] }),
      expect: { anonymous: 401, buyerA: 201, buyerB: 201, sellerA: 201, sellerB: 201, admin: 201 }
    },
    { what: "read buyer A's chatroom", method: 'GET', path: () => `/chatrooms/${ids.roomA}`, expect: { anonymous: 401, buyerA: 200, buyerB: 403, sellerA: 200, sellerB: 403, admin: 403 } },
    {
      what: 'register an appliance', method: 'POST', path: () => '/appliances', body: () => ({ name: 'printer' }),
      expect: { anonymous: 401, buyerA: 403, buyerB: 403, sellerA: 201, sellerB: 201, admin: 403 }
    },
    { what: 'list appliances', method: 'GET', path: () => '/appliances', expect: { anonymous: 401, buyerA: 403, buyerB: 403, sellerA: 200, sellerB: 200, admin: 403 } },
    {
      what: 'announce maintenance', method: 'POST', path: () => '/maintenance-notices',
      body: () => ({ message: 'Upgrade', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() }),
      expect: { anonymous: 401, buyerA: 403, buyerB: 403, sellerA: 403, sellerB: 403, admin: 201 }
    },
    { what: 'open the event stream', method: 'GET', path: () => '/events', expect: { anonymous: 401, buyerA: 200, buyerB: 200, sellerA: 200, sellerB: 200, admin: 200 } }
  ]

  const observed: Array<{ row: Row; got: Record<Who, number> }> = []

  for (const row of rows) {
    it(`${row.method} ${row.what}: ${everyone.map((who) => `${who} ${row.expect[who]}`).join(', ')}`, async () => {
      const got = {} as Record<Who, number>
      for (const who of everyone) {
        if (row.path() === '/events') {
          const response = await fetch(`${stack.base}/events`, { headers: actors[who].token ? { authorization: `Bearer ${actors[who].token}` } : {} })
          got[who] = response.status
          await response.body?.cancel()
          continue
        }
        got[who] = (await json(stack.base, row.method, row.path(), row.body?.(), actors[who].token)).status
      }
      observed.push({ row, got })
      expect(got).to.deep.equal(row.expect)
    })
  }

  it('lets through exactly the roles each resource manifest declares (docs/api.md prints the same manifests)', async () => {
    const manifests = await loadManifests()
    const roleOf: Record<Who, string | undefined> = { anonymous: undefined, buyerA: 'buyer', buyerB: 'buyer', sellerA: 'seller', sellerB: 'seller', admin: 'admin' }
    const methodOf = (verb: string, path: string) => (verb === 'POST' ? 'create' : verb === 'PATCH' ? 'patch' : verb === 'DELETE' ? 'remove' : path.split('?')[0]!.split('/').length > 2 ? 'get' : 'find')
    let checked = 0
    for (const { row, got } of observed) {
      const [, name] = row.path().split('?')[0]!.split('/')
      const entry = manifests.get(name!)
      if (!entry) continue
      const method = methodOf(row.method, row.path())
      const access = entry.manifest.access[method]
      expect(access, `${method} /${name} in its manifest`).to.exist
      const passed = everyone.filter((who) => got[who] !== 401 && got[who] !== 403)
      const label = `${row.method} ${row.what}`
      if (access!.open) expect(passed, `${label}: declared open`).to.include('anonymous')
      else expect(passed, `${label}: needs a token`).to.not.include('anonymous')
      if (access!.roles) {
        const passedRoles = new Set(passed.map((who) => roleOf[who]))
        // ownership rules may refuse some callers of a declared role, but every declared role passes for its own records
        expect([...passedRoles].sort(), `${label}: the roles that pass`).to.deep.equal([...access!.roles].sort())
      }
      checked++
    }
    expect(checked, 'rows checked against a manifest').to.be.greaterThan(10)
  })

  it('shows each identity only its own orders and appliances in lists', async () => {
    const buyerB = await json(stack.base, 'GET', '/orders', undefined, actors.buyerB.token)
    expect(buyerB.status).to.equal(200)
    const buyerBOrders: Array<{ id: string; buyerId: string }> = buyerB.body.data ?? buyerB.body
    expect(buyerBOrders.map((o) => o.id)).to.include(ids.orderB).and.not.include(ids.orderA)
    expect(buyerBOrders.every((o) => o.buyerId === actors.buyerB.id)).to.equal(true)
    const sellerB = await json(stack.base, 'GET', '/orders', undefined, actors.sellerB.token)
    const sellerBOrders: Array<{ id: string; items: Array<{ sellerId: string }> }> = sellerB.body.data ?? sellerB.body
    expect(sellerBOrders.map((o) => o.id)).not.to.include(ids.orderA)
    expect(sellerBOrders.flatMap((o) => o.items).every((i) => i.sellerId === actors.sellerB.id)).to.equal(true)
    const appliancesB = await json(stack.base, 'GET', '/appliances', undefined, actors.sellerB.token)
    const listB: Array<{ id: string }> = appliancesB.body.data ?? appliancesB.body
    expect(listB.map((a) => a.id)).not.to.include(ids.applianceA)
    const revoke = await json(stack.base, 'DELETE', `/appliances/${ids.applianceA}`, undefined, actors.sellerB.token)
    expect(revoke.status).to.be.oneOf([403, 404])
    const notifications = await json(stack.base, 'GET', `/notifications?userId=${actors.buyerA.id}`, undefined, actors.buyerB.token)
    expect(notifications.status).to.equal(403)
  })

  it('refuses forged, tampered, expired and wrongly signed tokens with 401 everywhere', async () => {
    const real = actors.buyerA.token!
    const [header, payload, signature] = real.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')
    const forged = {
      'tampered role': `${header}.${elevated}.${signature}`,
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'access' })).toString('base64url')}.${elevated}.`,
      'other secret': jwt.sign({ ...claims, role: 'admin' }, 'not-the-secret', { algorithm: 'HS256' }),
      expired: jwt.sign({ ...claims, iat: 1, exp: 2 }, process.env.JWT_SECRET || 'bazaar-development-secret-change-me', { algorithm: 'HS256' }),
      garbage: 'a.b.c'
    }
    for (const [kind, token] of Object.entries(forged)) {
      for (const path of [`/users/${actors.buyerA.id}`, `/orders/${ids.orderA}`, '/appliances', `/balances/${actors.buyerA.id}`, '/events']) {
        const response = await fetch(`${stack.base}${path}`, { headers: { authorization: `Bearer ${token}` } })
        await response.body?.cancel()
        expect(response.status, `${kind} on ${path}`).to.equal(401)
      }
      const maintenance = await json(stack.base, 'POST', '/maintenance-notices', { message: 'x', startsAt: new Date().toISOString(), endsAt: new Date().toISOString() }, token)
      expect(maintenance.status, `${kind} announcing maintenance`).to.equal(401)
    }
  })
})
