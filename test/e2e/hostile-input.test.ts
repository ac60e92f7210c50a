import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { MAX_BODY_BYTES } from '../../shared/feathers/limits.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { json, login, register, type Actor } from '../support/identities.ts'
import { rawRequest } from '../support/raw-http.ts'
import { startStack, type Stack } from '../support/stack.ts'

/**
 * Input PostgreSQL cannot store, bodies whose bytes lie about themselves and
 * bodies over the limit, through the public origin: always a 4xx Feathers
 * error body that says what was wrong, never a 5xx or a reset.
 */
describe('hostile input through the public origin', function () {
  this.timeout(120_000)
  const namespace = uniqueNamespace('hostile')
  const adminPassword = `admin-${randomUUID()}`
  const adminEmail = `admin.${namespace}@example.com`
  let stack: Stack
  let buyer: Actor
  let seller: Actor
  let admin: Actor
  let productId: string
  let orderId: string
  let applianceToken: string

  before(async () => {
    stack = await startStack(namespace, { adminEmail, adminPassword })
    buyer = await register(stack.base, 'buyer', 'Hostile Buyer')
    seller = await register(stack.base, 'seller', 'Hostile Seller')
    admin = { label: 'admin', email: adminEmail, token: await login(stack.base, adminEmail, adminPassword) }
    const product = await json(stack.base, 'POST', '/products', { title: 'Lamp', description: 'bright', price: 1200, currency: 'EUR', stock: 100 }, seller.token)
    expect(product.status).to.equal(201)
    productId = product.body.id
    const order = await waitFor(async () => {
      const answer = await json(stack.base, 'POST', '/orders', { items: [{ productId, quantity: 1 }] }, buyer.token)
      return answer.status === 201 ? answer.body : undefined
    }, { timeoutMs: 15_000, what: 'the product to reach the orders projection' })
    orderId = order.id
    const appliance = await json(stack.base, 'POST', '/appliances', { name: 'printer' }, seller.token)
    expect(appliance.status).to.equal(201)
    applianceToken = appliance.body.token
  })

  after(async () => {
    await stack?.stop()
  })

  /** a 400 Feathers body that names the field */
  function expectBadRequestNaming(answer: { status: number; body: any }, field: string, what: string) {
    expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).to.equal(400)
    expect(answer.body, what).to.include({ name: 'BadRequest', code: 400, className: 'bad-request' })
    expect(JSON.stringify(answer.body.data), what).to.include(field)
  }

  describe('text PostgreSQL cannot store', () => {
    // Every text field a client writes, on every service; `body` builds a valid body with `text` in that field.
    const writes: Array<{ route: string; field: string; who: () => string | undefined; body: (text: string) => unknown }> = [
      { route: 'POST /users', field: 'name', who: () => undefined, body: (t) => ({ email: `n${randomUUID().slice(0, 8)}@example.com`, password: 'secret-pass', name: t, role: 'buyer' }) },
      { route: 'PATCH /users/:buyer', field: 'name', who: () => buyer.token, body: (t) => ({ name: t }) },
      { route: 'PATCH /users/:buyer', field: 'bio', who: () => buyer.token, body: (t) => ({ bio: t }) },
      { route: 'POST /authentication', field: 'email', who: () => undefined, body: (t) => ({ strategy: 'local', email: t, password: 'whatever-pass' }) },
      { route: 'POST /products', field: 'title', who: () => seller.token, body: (t) => ({ title: t, description: 'd', price: 1, currency: 'EUR', stock: 1 }) },
      { route: 'POST /products', field: 'description', who: () => seller.token, body: (t) => ({ title: 'T', description: t, price: 1, currency: 'EUR', stock: 1 }) },
      { route: 'PATCH /products/:product', field: 'title', who: () => seller.token, body: (t) => ({ title: t }) },
      { route: 'POST /chatrooms', field: 'title', who: () => buyer.token, body: (t) => ({ title: t, memberIds: [seller.id] }) },
      { route: 'POST /claims', field: 'reason', who: () => buyer.token, body: (t) => ({ orderId, reason: t }) },
      { route: 'POST /appliances', field: 'name', who: () => seller.token, body: (t) => ({ name: t }) },
      { route: 'POST /receipts', field: 'orderId', who: () => applianceToken, body: (t) => ({ orderId: t }) },
      {
        route: 'POST /maintenance-notices',
        field: 'message',
        who: () => admin.token,
        body: (t) => ({ message: t, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() })
      }
    ]
    const path = (template: string) => template.replace(':buyer', buyer.id!).replace(':product', productId)
    const hostile: Array<[string, string]> = [
      ['a NUL byte', 'nul\u0000byte'],
      ['a lone high surrogate', 'half \ud800 a pair'],
      ['a lone low surrogate', 'half \udc00 a pair']
    ]

    for (const { route, field, who, body } of writes) {
      for (const [what, text] of hostile) {
        it(`${route} with ${what} in ${field}: 400 naming ${field}`, async () => {
          const [method, template] = route.split(' ') as [string, string]
          const answer = await json(stack.base, method, path(template), body(text), who())
          expectBadRequestNaming(answer, field, `${route} ${field}`)
        })
      }
    }

    it('a NUL byte in a JSON object key: 400', async () => {
      const answer = await json(stack.base, 'POST', '/products', { title: 'T', description: 'd', price: 1, currency: 'EUR', stock: 1, 'x\u0000': 1 }, seller.token)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
    })

    const queries: Array<[string, string, () => string | undefined]> = [
      ['/products?title=a%00b', 'title', () => undefined],
      ['/products?title[$in][]=a%00b', 'title', () => undefined],
      ['/products?sellerId=%00', 'sellerId', () => undefined],
      ['/orders?status=%00', 'status', () => buyer.token],
      ['/orders?status[$ne]=%ED%A0%80', 'status', () => buyer.token],
      ['/notifications?userId=%00', 'userId', () => buyer.token],
      ['/appliances?name=%00', 'name', () => seller.token]
    ]
    for (const [query, field, who] of queries) {
      it(`GET ${query}: 4xx, naming ${field} when it is a 400`, async () => {
        const answer = await json(stack.base, 'GET', query, undefined, who())
        expect(answer.status, JSON.stringify(answer.body)).to.be.within(400, 499)
        if (answer.status === 400) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }

    it('still stores ordinary text: astral characters (a surrogate pair) and U+FFFD are kept as sent', async () => {
      const title = 'Lamp 💡 \ufffd ünïcødé'
      const created = await json(stack.base, 'POST', '/products', { title, description: 'd', price: 1, currency: 'EUR', stock: 1 }, seller.token)
      expect(created.status, JSON.stringify(created.body)).to.equal(201)
      expect(created.body.title).to.equal(title)
    })
  })

  describe('bodies whose bytes lie about themselves', () => {
    const userBody = () => JSON.stringify({ email: `e${randomUUID().slice(0, 8)}@example.com`, password: 'secret-pass', name: 'Enc', role: 'buyer' })
    const orderBody = () => JSON.stringify({ items: [{ productId, quantity: 1 }] })
    const targets: Array<[string, () => string, () => string | undefined]> = [
      ['/users', userBody, () => undefined],
      ['/orders', orderBody, () => buyer.token],
      ['/appliances', () => JSON.stringify({ name: 'printer' }), () => seller.token]
    ]
    const headers = (token: string | undefined, extra: Record<string, string>) => ({
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extra
    })

    for (const [path, body, who] of targets) {
      for (const encoding of ['gzip', 'br', 'deflate']) {
        it(`POST ${path} claiming Content-Encoding: ${encoding} with a plain body: 400`, async () => {
          const answer = await rawRequest(stack.base, { method: 'POST', path, headers: headers(who(), { 'content-encoding': encoding }), body: Buffer.from(body()) })
          expect(answer.status, answer.text).to.equal(400)
          expect(answer.body).to.include({ name: 'BadRequest', code: 400, className: 'bad-request' })
        })
      }
      for (const encoding of ['zstd', 'foo']) {
        it(`POST ${path} with Content-Encoding: ${encoding} (not supported): 415 UnsupportedMediaType`, async () => {
          const answer = await rawRequest(stack.base, { method: 'POST', path, headers: headers(who(), { 'content-encoding': encoding }), body: Buffer.from(body()) })
          expect(answer.status, answer.text).to.equal(415)
          expect(answer.body).to.include({ name: 'UnsupportedMediaType', code: 415, className: 'unsupported-media-type' })
        })
      }
      it(`POST ${path} with a truncated gzip body: 400`, async () => {
        const zipped = gzipSync(Buffer.from(body()))
        const answer = await rawRequest(stack.base, { method: 'POST', path, headers: headers(who(), { 'content-encoding': 'gzip' }), body: zipped.subarray(0, zipped.length - 6) })
        expect(answer.status, answer.text).to.equal(400)
      })
      it(`POST ${path} with truncated JSON: 400`, async () => {
        const text = body()
        const answer = await rawRequest(stack.base, { method: 'POST', path, headers: headers(who(), {}), body: Buffer.from(text.slice(0, text.length / 2)) })
        expect(answer.status, answer.text).to.equal(400)
      })
    }

    // Invalid UTF-8 inside a text field a lenient decoder would accept (as U+FFFD): it must not be stored altered.
    const textTargets: Array<[string, (marker: string) => string, () => string | undefined]> = [
      ['/users', (m) => JSON.stringify({ email: `u${randomUUID().slice(0, 8)}@example.com`, password: 'secret-pass', name: `A ${m}`, role: 'buyer' }), () => undefined],
      ['/appliances', (m) => JSON.stringify({ name: `printer ${m}` }), () => seller.token],
      ['/claims', (m) => JSON.stringify({ orderId, reason: `broken ${m}` }), () => buyer.token]
    ]
    for (const [path, body, who] of textTargets) {
      for (const [what, bytes] of [['a stray continuation byte', [0x80]], ['an overlong encoding', [0xc0, 0xaf]], ['0xFF', [0xff]], ['a UTF-8-encoded surrogate', [0xed, 0xa0, 0x80]]] as const) {
        it(`POST ${path} with ${what} inside a JSON string: 400`, async () => {
          const [before, after] = body('MARK').split('MARK') as [string, string]
          const answer = await rawRequest(stack.base, { method: 'POST', path, headers: headers(who(), {}), body: Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]) })
          expect(answer.status, answer.text).to.equal(400)
          expect(answer.body).to.include({ name: 'BadRequest', code: 400 })
        })
      }
    }

    it('a real gzip, deflate or brotli body is accepted', async () => {
      const encoders: Array<[string, (b: Buffer) => Buffer]> = [['gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]]
      for (const [encoding, encode] of encoders) {
        const answer = await rawRequest(stack.base, { method: 'POST', path: '/users', headers: headers(undefined, { 'content-encoding': encoding }), body: encode(Buffer.from(userBody())) })
        expect(answer.status, `${encoding}: ${answer.text}`).to.equal(201)
      }
    })

    it('a body sent in fewer bytes than its Content-Length claims: 400, not a hang', async () => {
      const text = userBody()
      const answer = await rawRequest(stack.base, { method: 'POST', path: '/users', headers: headers(undefined, { 'content-length': String(text.length + 50) }), body: [Buffer.from(text)], timeoutMs: 3_000 })
        .catch((err: Error) => ({ status: 0, text: err.message }))
      // The server cannot know the rest will never come: it may wait (here we stop waiting after 3 s), but
      // whatever it answers in that time must not be a 5xx.
      expect(answer.status === 0 || (answer.status >= 400 && answer.status < 500), answer.text).to.equal(true)
    })
  })

  describe('bodies over the limit', () => {
    const oversized = () => Buffer.from(JSON.stringify({ email: 'big@example.com', password: 'secret-pass', role: 'buyer', name: 'x'.repeat(3 * 1024 * 1024) }))
    const tooLarge = (answer: { status: number; body: any; text: string }, what: string) => {
      expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).to.equal(413)
      expect(answer.body, what).to.include({ name: 'PayloadTooLarge', code: 413, className: 'payload-too-large' })
      expect(answer.body.data, what).to.include({ limit: MAX_BODY_BYTES })
    }
    const paths: Array<[string, () => string | undefined]> = [
      ['/users', () => undefined], // proxied to users
      ['/products', () => seller.token], // proxied to catalog
      ['/orders', () => buyer.token], // proxied to orders
      ['/appliances', () => seller.token], // the gateway's own
      ['/maintenance-notices', () => admin.token] // the gateway's own
    ]
    for (const [path, who] of paths) {
      const auth = (): Record<string, string> => (who() ? { authorization: `Bearer ${who()}` } : {})
      it(`POST ${path} with 3 MB and a Content-Length: 413 PayloadTooLarge`, async () => {
        tooLarge(await rawRequest(stack.base, { method: 'POST', path, headers: { 'content-type': 'application/json', ...auth() }, body: oversized() }), path)
      })
      it(`POST ${path} with 3 MB and Expect: 100-continue: 413 at once, before the body is sent`, async () => {
        const answer = await rawRequest(stack.base, { method: 'POST', path, headers: { 'content-type': 'application/json', ...auth() }, body: oversized(), expectContinue: true })
        tooLarge(answer, `${path} with Expect`)
        expect(answer.continued, 'the server asked for the body it then refused').to.equal(false)
      })
      it(`POST ${path} with 3 MB chunked (no Content-Length): 413 PayloadTooLarge`, async () => {
        const body = oversized()
        const chunks = Array.from({ length: 48 }, (_, i) => body.subarray((i * body.length) / 48, ((i + 1) * body.length) / 48))
        tooLarge(await rawRequest(stack.base, { method: 'POST', path, headers: { 'content-type': 'application/json', ...auth() }, body: chunks }), `${path} chunked`)
      })
    }

    it('fetch (undici) sending 3 MB to POST /users gets the 413 body too', async () => {
      const answer = await json(stack.base, 'POST', '/users', oversized().toString())
      expect(answer.status).to.equal(413)
      expect(answer.body).to.include({ name: 'PayloadTooLarge', className: 'payload-too-large' })
    })

    it('a body just under the limit, with Expect: 100-continue, is read and answered', async () => {
      const body = Buffer.from(JSON.stringify({ email: `u${randomUUID().slice(0, 8)}@example.com`, password: 'secret-pass', role: 'buyer', name: 'x'.repeat(MAX_BODY_BYTES - 200) }))
      expect(body.length).to.be.below(MAX_BODY_BYTES)
      const answer = await rawRequest(stack.base, { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body, expectContinue: true })
      expect(answer.continued).to.equal(true)
      // read in full and refused for what it says (the name is too long), not for its size
      expectBadRequestNaming(answer, 'name', 'a long name')
    })

    it('every service is still healthy afterwards', async () => {
      for (const [name, running] of stack.apps) expect((await fetch(`${running.url}/health`)).status, name).to.equal(200)
    })
  })
})
