import { expect } from 'chai'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { json, login, register, type Actor } from '../support/identities.ts'
import { waitFor } from '../../shared/testing/wait.ts'

/**
 * Property-based bad input against every contract path, through the public
 * origin: whatever the body, query, id or headers, the answer is never a 5xx,
 * nothing crashes, and every service is still healthy afterwards.
 */
describe('REST fuzzing: malformed input never yields a 5xx', function () {
  this.timeout(240_000)
  const namespace = uniqueNamespace('restfuzz')
  const adminPassword = `admin-${randomUUID()}`
  const adminEmail = `admin.${namespace}@example.com`
  let stack: Stack
  let actors: Actor[]
  let ids: Record<string, string>

  before(async () => {
    stack = await startStack(namespace, { adminEmail, adminPassword })
    const buyer = await register(stack.base, 'buyer', 'Fuzz Buyer')
    const seller = await register(stack.base, 'seller', 'Fuzz Seller')
    const admin: Actor = { label: 'admin', email: adminEmail, token: await login(stack.base, adminEmail, adminPassword) }
    actors = [{ label: 'anonymous' }, buyer, seller, admin, { label: 'garbage', token: 'not.a.jwt' }]
    const product = await json(stack.base, 'POST', '/products', { title: 'Lamp', description: 'bright', price: 1200, currency: 'EUR', stock: 1000 }, seller.token)
    expect(product.status).to.equal(201)
    const order = await eventuallyOrder(stack.base, buyer.token!, product.body.id)
    const appliance = await json(stack.base, 'POST', '/appliances', { name: 'printer' }, seller.token)
    ids = { buyer: buyer.id!, seller: seller.id!, product: product.body.id, order: order.id, appliance: appliance.body.id }
  })

  after(async () => {
    await stack?.stop()
  })

  const valid: Record<string, () => Record<string, unknown>> = {
    'POST /users': () => ({ email: `f${randomUUID().slice(0, 8)}@example.com`, password: 'secret-pass', name: 'F', role: 'buyer' }),
    'POST /authentication': () => ({ strategy: 'local', email: 'nobody@example.com', password: 'x' }),
    'PATCH /users/:buyer': () => ({ name: 'Renamed' }),
    'POST /chatrooms': () => ({ title: 'Room', memberIds: [ids.seller] }),
    'POST /products': () => ({ title: 'T', description: 'D', price: 1, currency: 'EUR', stock: 1 }),
    'PATCH /products/:product': () => ({ price: 1300 }),
    'POST /orders': () => ({ items: [{ productId: ids.product, quantity: 1 }] }),
    'POST /claims': () => ({ orderId: ids.order, reason: 'broken' }),
    'POST /appliances': () => ({ name: 'printer' }),
    'POST /maintenance-notices': () => ({ message: 'm', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() }),
    'POST /receipts': () => ({ orderId: ids.order })
  }
  const reads = [
    'GET /users/:buyer', 'GET /balances/:buyer', 'GET /segments/:buyer', 'GET /notifications', 'GET /chatrooms/:x',
    'GET /products/:product', 'GET /products', 'GET /orders/:order', 'GET /orders', 'GET /appliances',
    'DELETE /appliances/:x', 'GET /health'
  ]

  const anyId = fc.oneof(
    fc.uuid(),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('', '0', '-1', 'null', 'undefined', '%00', '..%2F..', "1' or '1'='1", '9'.repeat(40), 'a'.repeat(300))
  )
  const weird = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, -1, 0, 1e308, -1e308, 2 ** 53 + 1, 1.5, '', ' ', 'x'.repeat(5000), [], {}, true, '1', '__proto__')
  )
  const mutatedBody = (route: string) =>
    fc.oneof(
      // one field replaced by anything
      fc.tuple(fc.nat(), weird).map(([i, value]) => {
        const body = valid[route]!()
        const keys = Object.keys(body)
        body[keys[i % keys.length]!] = value
        return JSON.stringify(body)
      }),
      // one field missing
      fc.nat().map((i) => {
        const body = valid[route]!()
        const keys = Object.keys(body)
        delete body[keys[i % keys.length]!]
        return JSON.stringify(body)
      }),
      // an unknown field
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), weird).map(([key, value]) => JSON.stringify({ ...valid[route]!(), [key]: value })),
      // several records at once (a bulk call)
      fc.constant(null).map(() => JSON.stringify([valid[route]!()])),
      // not an object, or not JSON at all
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 })
    )
  const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,300}$/)
  const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', '', 'application/json; charset=latin1')

  function resolvePath(template: string, id: string): string {
    return template.replace(/:(\w+)/g, (_, name: string) => (name === 'x' ? encodeURIComponent(id) : ids[name]!))
  }

  async function send(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
    const response = await fetch(`${stack.base}${path}`, { method, headers, body })
    await response.arrayBuffer()
    return response.status
  }

  it('answers thousands of malformed bodies on every write path with 4xx (or success), never 5xx', async () => {
    const routes = Object.keys(valid)
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.nat(),
        fc.nat({ max: actors.length - 1 }),
        contentType,
        fc.context(),
        async (route, seed, who, type, ctx) => {
          const body = fc.sample(mutatedBody(route), { numRuns: 1, seed })[0]!
          const [method, template] = route.split(' ') as [string, string]
          const token = actors[who]!.token
          const headers: Record<string, string> = { ...(type ? { 'content-type': type } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }
          const status = await send(method, resolvePath(template, randomUUID()), body, headers)
          ctx.log(`${route} as ${actors[who]!.label}: ${status} for ${body.slice(0, 120)}`)
          return status >= 200 && status < 500
        }
      ),
      { numRuns: 1500 }
    )
  })

  it('answers malformed ids, query strings and headers on every path with 4xx (or success), never 5xx', async () => {
    const routes = [...reads, ...Object.keys(valid)]
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        anyId,
        fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1e9', '[]', '{}', 'null')), { maxKeys: 4 }),
        fc.nat({ max: actors.length - 1 }),
        headerValue,
        async (route, id, query, who, requestId) => {
          const [method, template] = route.split(' ') as [string, string]
          const path = resolvePath(template.replace(/:buyer|:product|:order/, ':x'), id)
          const search = new URLSearchParams(query).toString()
          const token = actors[who]!.token
          const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId, ...(token ? { authorization: `Bearer ${token}` } : {}) }
          const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(valid[route]?.() ?? {})
          const status = await send(method, `${path}${search ? `?${search}` : ''}`, body, headers)
          return status >= 200 && status < 500
        }
      ),
      { numRuns: 1000 }
    )
  })

  it('answers an array body (a bulk call) on every write path with 400 for a signed-in caller', async () => {
    for (const route of Object.keys(valid)) {
      const [method, template] = route.split(' ') as [string, string]
      for (const who of actors.filter((a) => a.token && a.label !== 'garbage')) {
        const answer = await json(stack.base, method, resolvePath(template, randomUUID()), [valid[route]!()], who.token)
        // refused for who it is (401/403) or for the body (400), never processed, never a 5xx
        expect(answer.status, `${route} as ${who.label}`).to.be.oneOf([400, 401, 403])
      }
    }
  })

  it('leaves every service healthy afterwards', async () => {
    for (const [name, running] of stack.apps) {
      const response = await fetch(`${running.url}/health`)
      expect(response.status, name).to.equal(200)
    }
  })
})

async function eventuallyOrder(base: string, token: string, productId: string) {
  // The product reaches orders' projection through product.created: retry until it is known.
  return waitFor(async () => {
    const answer = await json(base, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, token)
    return answer.status === 201 ? answer.body : undefined
  }, { timeoutMs: 15_000, what: 'the product to reach the orders projection' })
}

