import { expect } from 'chai'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { json, login, register, type Actor } from '../support/identities.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { writeFileSync } from 'node:fs'
import { MAX_BODY_BYTES } from '../../shared/feathers/limits.ts'
import { rawRequest, type RawResponse } from '../support/raw-http.ts'
import { encodeQuery, satisfies, type Query } from '../support/fuzz-query.ts'

/**
 * How many requests the properties below send in all (`FUZZ_REQUESTS`): a
 * short run in `npm test` (2,000: every route and every kind of mutation is
 * drawn many times over; 5,000 took a minute and a half of the suite on a
 * loaded machine), 10,000 or more in `npm run chaos`. Each property gets its
 * share; the count actually sent is printed (and written to `FUZZ_REPORT`, a
 * JSON file, when set).
 */
const budget = Math.max(100, Number(process.env.FUZZ_REQUESTS || 2000))
const share = (fraction: number) => Math.max(20, Math.round(budget * fraction))

/**
 * Property-based bad input against every contract path, through the public
 * origin: whatever the body, query, id or headers, the answer is never a 5xx,
 * nothing crashes, and every service is still healthy afterwards.
 */
describe('REST fuzzing: malformed input never yields a 5xx', function () {
  this.timeout(120_000 + budget * 60)
  const namespace = uniqueNamespace('restfuzz')
  const adminPassword = `admin-${randomUUID()}`
  const adminEmail = `admin.${namespace}@example.com`
  let stack: Stack
  let actors: Actor[]
  let ids: Record<string, string>
  /** who reads what: the callers whose query answers are checked row by row */
  let readers: Array<{ actor: Actor; role: 'buyer' | 'seller' | 'admin' }>
  /** figures a filter might probe with: the shared order's whole total and each seller's share */
  let figures: number[]
  let requests = 0
  const started = Date.now()

  before(async () => {
    stack = await startStack(namespace, { adminEmail, adminPassword })
    const buyer = await register(stack.base, 'buyer', 'Fuzz Buyer')
    const otherBuyer = await register(stack.base, 'buyer', 'Other Buyer')
    const seller = await register(stack.base, 'seller', 'Fuzz Seller')
    const otherSeller = await register(stack.base, 'seller', 'Other Seller')
    const admin: Actor = { label: 'admin', email: adminEmail, token: await login(stack.base, adminEmail, adminPassword) }
    actors = [{ label: 'anonymous' }, buyer, seller, admin, { label: 'garbage', token: 'not.a.jwt' }, otherBuyer, otherSeller]
    const product = await json(stack.base, 'POST', '/products', { title: 'Lamp', description: 'bright', price: 1200, currency: 'EUR', stock: 1000 }, seller.token)
    expect(product.status).to.equal(201)
    const otherProduct = await json(stack.base, 'POST', '/products', { title: 'Shade', description: 'dark', price: 2299, currency: 'EUR', stock: 1000 }, otherSeller.token)
    expect(otherProduct.status).to.equal(201)
    const order = await eventuallyOrder(stack.base, buyer.token!, product.body.id)
    // one order with both sellers' lines: each seller is shown only their share of its total
    const shared = await eventuallyOrder(stack.base, buyer.token!, otherProduct.body.id, product.body.id)
    await eventuallyOrder(stack.base, otherBuyer.token!, otherProduct.body.id)
    const appliance = await json(stack.base, 'POST', '/appliances', { name: 'printer' }, seller.token)
    ids = { buyer: buyer.id!, seller: seller.id!, product: product.body.id, order: order.id, appliance: appliance.body.id, shared: shared.id }
    readers = [{ actor: buyer, role: 'buyer' }, { actor: otherBuyer, role: 'buyer' }, { actor: seller, role: 'seller' }, { actor: otherSeller, role: 'seller' }, { actor: admin, role: 'admin' }]
    figures = [shared.total, 1200, 2299, 1200 * 2, 2299 * 2, order.total]
  })

  after(async () => {
    const seconds = (Date.now() - started) / 1000
    process.stdout.write(`      rest-fuzz: ${requests} requests in ${seconds.toFixed(1)} s (FUZZ_REQUESTS=${budget})\n`)
    if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ requests, seconds, budget }) + '\n')
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
    requests++
    const response = await fetch(`${stack.base}${path}`, { method, headers, body })
    const text = await response.text()
    const problem = errorBodyProblem(response.status, text)
    if (problem) throw new Error(`${method} ${path}: ${problem}`)
    return response.status
  }

  async function sendRaw(spec: Parameters<typeof rawRequest>[1]): Promise<RawResponse> {
    requests++
    const answer = await rawRequest(stack.base, spec)
    const problem = errorBodyProblem(answer.status, answer.text)
    if (problem) throw new Error(`${spec.method} ${spec.path}: ${problem}`)
    return answer
  }

  it('answers malformed bodies (hundreds here, thousands in the chaos run) on every write path with 4xx (or success), never 5xx', async () => {
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
      { numRuns: share(0.25) }
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
      { numRuns: share(0.15) }
    )
  })

  // ---- hostile encodings: bytes and headers that lie, text PostgreSQL cannot store, bodies over the limit ----

  /** paths (JSON pointers) of the string leaves of a body */
  function stringLeaves(value: unknown, path = ''): string[] {
    if (typeof value === 'string') return [path]
    if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, `${path}/${k}`))
    return []
  }
  function setAt(body: Record<string, unknown>, pointer: string, update: (old: string) => string): void {
    const keys = pointer.split('/').slice(1)
    let target = body as Record<string, unknown>
    for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>
    const last = keys.at(-1)!
    target[last] = update(String(target[last]))
  }
  const insert = (text: string, at: number, what: string) => text.slice(0, at % (text.length + 1)) + what + text.slice(at % (text.length + 1))

  interface Hostile {
    what: string
    body: Buffer | Buffer[]
    headers?: Record<string, string>
    expectContinue?: boolean
    /** the status the contract demands, or undefined for "any 2xx-4xx" */
    status?: number
    /** a word the 400's data must contain (the failing field) */
    names?: string
    continued?: boolean
  }

  const hostile = (route: string): fc.Arbitrary<Hostile> => {
    const base = () => valid[route]!()
    const bytes = (body: unknown) => Buffer.from(JSON.stringify(body))
    const inField = (what: string, text: string) =>
      fc.nat().map((i): Hostile => {
        const body = base()
        const leaves = stringLeaves(body)
        if (!leaves.length) return { what: `${what} in a key`, body: bytes({ ...body, [`k${text}`]: 1 }), status: 400 }
        const leaf = leaves[i % leaves.length]!
        setAt(body, leaf, (old) => insert(old, i, text))
        return { what: `${what} in ${leaf}`, body: bytes(body), status: 400, names: leaf.split('/').filter((k) => !/^\d+$/.test(k)).at(-1) }
      })
    const oversized = (extra: number) => bytes({ ...base(), padding: 'x'.repeat(MAX_BODY_BYTES + extra) })
    return fc.oneof(
      { weight: 3, arbitrary: inField('a NUL byte', '\u0000') },
      { weight: 2, arbitrary: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a\udc00\ud800b').chain((t) => inField('a lone surrogate', t)) },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.nat(), fc.constantFrom([0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82])).map(([i, bad]): Hostile => {
          const body = base()
          const leaves = stringLeaves(body)
          const marker = 'M4RK3R'
          if (leaves.length) setAt(body, leaves[i % leaves.length]!, (old) => insert(old, i, marker))
          const [before, after = ''] = (leaves.length ? JSON.stringify(body) : insert(JSON.stringify(body), 1, marker)).split(marker) as [string, string]
          return { what: `invalid UTF-8 ${Buffer.from(bad).toString('hex')}`, body: Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]), status: 400 }
        })
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom('gzip', 'br', 'deflate', 'GZIP', 'x-gzip').map((coding): Hostile => ({ what: `plain body claiming ${coding}`, body: bytes(base()), headers: { 'content-encoding': coding }, status: 400 }))
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('zstd', 'foo', 'compress', 'gzip, br', '*').map((coding): Hostile => ({ what: `unsupported coding ${coding}`, body: bytes(base()), headers: { 'content-encoding': coding }, status: 415 }))
      },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constantFrom('gzip', 'br'), fc.nat()).map(([coding, cut]): Hostile => {
          const encoded = (coding === 'gzip' ? gzipSync : brotliCompressSync)(bytes(base()))
          return { what: `a ${coding} body cut short`, body: encoded.subarray(0, 1 + (cut % (encoded.length - 2))), headers: { 'content-encoding': coding }, status: 400 }
        })
      },
      { weight: 1, arbitrary: fc.constantFrom('gzip', 'br').map((coding): Hostile => ({ what: `a real ${coding} body`, body: (coding === 'gzip' ? gzipSync : brotliCompressSync)(bytes(base())), headers: { 'content-encoding': coding } })) },
      {
        weight: 2,
        arbitrary: fc.nat().map((cut): Hostile => {
          const text = JSON.stringify(base())
          return { what: 'truncated JSON', body: Buffer.from(text.slice(0, 1 + (cut % (text.length - 1)))), status: 400 }
        })
      },
      { weight: 2, arbitrary: fc.constant(null).map((): Hostile => ({ what: 'Expect: 100-continue', body: bytes(base()), expectContinue: true, continued: true })) },
      // bodies over the limit are a megabyte each: rarer, but every way of sending one
      { weight: 1, arbitrary: fc.nat({ max: 4096 }).map((extra): Hostile => ({ what: 'oversized, Content-Length', body: oversized(extra), status: 413 })) },
      { weight: 1, arbitrary: fc.nat({ max: 4096 }).map((extra): Hostile => ({ what: 'oversized, Expect: 100-continue', body: oversized(extra), expectContinue: true, status: 413, continued: false })) },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 2, max: 64 }).map((parts): Hostile => {
          const body = oversized(0)
          return { what: `oversized, chunked in ${parts}`, body: Array.from({ length: parts }, (_, i) => body.subarray(Math.floor((i * body.length) / parts), Math.floor(((i + 1) * body.length) / parts))), status: 413 }
        })
      },
      {
        weight: 1,
        arbitrary: fc.constant(null).map((): Hostile => ({ what: 'a gzip bomb (small, decodes over the limit)', body: gzipSync(bytes({ ...base(), padding: ' '.repeat(MAX_BODY_BYTES * 2) })), headers: { 'content-encoding': 'gzip' }, status: 413 }))
      }
    )
  }

  it('answers hostile encodings on every write path as the contract says: 400 naming the field, 413, 415, never 5xx', async () => {
    const routes = Object.keys(valid)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.nat({ max: actors.length - 1 }), fc.context(), fc.nat(), async (route, who, ctx, seed) => {
        const attack = fc.sample(hostile(route), { numRuns: 1, seed })[0]!
        const [method, template] = route.split(' ') as [string, string]
        const token = actors[who]!.token
        const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...attack.headers }
        const answer = await sendRaw({ method, path: resolvePath(template, randomUUID()), headers, body: attack.body, expectContinue: attack.expectContinue })
        ctx.log(`${route} as ${actors[who]!.label}, ${attack.what}: ${answer.status} ${answer.text.slice(0, 200)}`)
        if (answer.status >= 500) return false
        if (attack.status !== undefined && answer.status !== attack.status) return false
        if (attack.names && !JSON.stringify(answer.body?.data ?? '').includes(attack.names)) return false
        if (attack.continued !== undefined && answer.continued !== attack.continued) return false
        if (attack.status === 413 && answer.body?.data?.limit !== MAX_BODY_BYTES) return false
        return true
      }),
      { numRuns: share(0.25) }
    )
  })

  // ---- every Feathers query operator on every field, and no filter reaching past what the caller may read ----

  /** what each path holds, and which fields a filter can be checked on locally (numbers; exact strings) */
  const collections: Record<string, { fields: string[]; numbers: string[]; exact: string[]; query?: (caller: Actor) => Query }> = {
    '/orders': { fields: ['id', 'buyerId', 'status', 'items', 'total', 'currency', 'createdAt'], numbers: ['total'], exact: ['id', 'buyerId', 'status', 'currency'] },
    '/products': { fields: ['id', 'sellerId', 'title', 'description', 'price', 'currency', 'stock', 'parentId', 'createdAt'], numbers: ['price', 'stock'], exact: ['id', 'sellerId', 'currency'] },
    '/notifications': { fields: ['id', 'userId', 'kind', 'to', 'subject', 'sentAt'], numbers: [], exact: ['id', 'userId', 'kind'], query: (caller) => (caller.id ? { userId: caller.id } : {}) },
    '/appliances': { fields: ['id', 'sellerId', 'name', 'createdAt'], numbers: [], exact: ['id', 'sellerId', 'name'] },
    '/maintenance-notices': { fields: ['id', 'message', 'startsAt', 'endsAt'], numbers: [], exact: ['id'] }
  }
  const gets: Record<string, string> = { '/orders/:order': '/orders', '/orders/:shared': '/orders', '/products/:product': '/products', '/users/:buyer': '/users' }
  const operators = ['$in', '$nin', '$lt', '$lte', '$gt', '$gte', '$ne', '$like', '$ilike', '$notlike']

  const queryFor = (collection: string): fc.Arbitrary<Query> => {
    const { fields } = collections[collection] ?? { fields: ['id', 'name', 'email', 'role', 'createdAt'] }
    const field = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: fc.constantFrom('password', 'passwordHash', 'sellerId', 'x', '__proto__', 'constructor') })
    const value = fc.oneof(
      fc.constantFrom(...figures.map(String), ...Object.values(ids), 'created', 'paid', 'EUR', 'USD', '%', '%a%', '_', '', 'null', 'true'),
      fc.integer({ min: -10, max: 10_000 }).map(String),
      fc.constantFrom('99999999999999999999999', '1e400', '-0', 'NaN', '0x10', '1.5', new Date().toISOString(), '2020-01-01'),
      fc.string({ maxLength: 12 })
    )
    const condition = fc.oneof(
      value,
      fc.tuple(fc.constantFrom(...operators), value).map(([op, v]) => ({ [op]: v })),
      fc.tuple(fc.constantFrom('$in', '$nin'), fc.array(value, { minLength: 1, maxLength: 3 })).map(([op, vs]) => ({ [op]: vs })),
      fc.tuple(fc.constantFrom('$gt', '$gte'), value, fc.constantFrom('$lt', '$lte'), value).map(([a, x, b, y]) => ({ [a]: x, [b]: y }))
    )
    const filter = fc.dictionary(field, condition, { maxKeys: 2 })
    return fc.record(
      {
        filter,
        $or: fc.array(filter.filter((f) => Object.keys(f).length > 0), { minLength: 1, maxLength: 3 }),
        $and: fc.array(filter.filter((f) => Object.keys(f).length > 0), { minLength: 1, maxLength: 2 }),
        $select: fc.array(field, { minLength: 1, maxLength: 3 }),
        $sort: fc.dictionary(field, fc.constantFrom('1', '-1', '0', 'asc', 'x'), { minKeys: 1, maxKeys: 2 }),
        $limit: fc.oneof(fc.nat({ max: 200 }).map(String), fc.constantFrom('-1', '0', '1', '99999999999999999999999', '1e3', 'x', '2.5')),
        $skip: fc.oneof(fc.nat({ max: 50 }).map(String), fc.constantFrom('-1', '99999999999999999999999', 'x'))
      },
      { requiredKeys: [] }
    ).map(({ filter: f, ...rest }) => ({ ...(f ?? {}), ...rest }) as Query)
  }

  /** Why this answer shows `caller` more than they may read, or breaks the query it answers; undefined when it is fine. */
  function readProblem(collection: string, reader: (typeof readers)[number], query: Query, rows: Array<Record<string, unknown>>): string | undefined {
    const { role, actor } = reader
    const selected = Array.isArray(query.$select) ? (query.$select as string[]) : undefined
    for (const row of rows) {
      if (selected && Object.keys(row).some((key) => key !== 'id' && !selected.includes(key))) return `$select ${selected} returned ${Object.keys(row)}`
      if (collection === '/orders' && role !== 'admin') {
        if (role === 'buyer' && 'buyerId' in row && row.buyerId !== actor.id) return `a buyer was shown someone else's order ${row.id}`
        const items = row.items as Array<{ sellerId: string; unitPrice: number; quantity: number }> | undefined
        if (role === 'seller' && items?.some((item) => item.sellerId !== actor.id)) return `a seller was shown another seller's lines in ${row.id}`
        if (role === 'seller' && items && typeof row.total === 'number' && row.total !== items.reduce((n, i) => n + i.unitPrice * i.quantity, 0)) {
          return `a seller was shown a total beyond their lines in ${row.id}`
        }
      }
      if (collection === '/notifications' && role !== 'admin' && 'userId' in row && row.userId !== actor.id) return `someone else's notification ${row.id}`
      if (collection === '/appliances' && 'sellerId' in row && row.sellerId !== actor.id) return `someone else's appliance ${row.id}`
      // the filter must hold on the row as this caller sees it: no matching on figures they are not shown
      const checkable = collections[collection]
      if (checkable && !selected && filterIsCheckable(query, checkable) && !satisfies(row, query)) return `row ${row.id} as shown does not satisfy the filter`
    }
    const limit = query.$limit
    if (typeof limit === 'string' && /^\d+$/.test(limit) && rows.length > Number(limit)) return `$limit ${limit} returned ${rows.length} rows`
    return undefined
  }

  /** a filter on only those fields and operators whose meaning is plain in JS (numbers ordered, exact strings compared) */
  function filterIsCheckable(query: Query, { numbers, exact }: { numbers: string[]; exact: string[] }): boolean {
    const ok = (q: Query): boolean =>
      Object.entries(q).every(([key, c]) => {
        if (key === '$or' || key === '$and') return (c as Query[]).every(ok)
        if (key.startsWith('$')) return true
        const ops = c !== null && typeof c === 'object' && !Array.isArray(c) ? Object.keys(c) : ['eq']
        const numeric = numbers.includes(key) && Object.values(c !== null && typeof c === 'object' ? (c as object) : { c }).flat().every((v) => /^-?\d+$/.test(String(v)))
        if (numeric) return ops.every((op) => ['eq', '$in', '$nin', '$lt', '$lte', '$gt', '$gte', '$ne'].includes(op))
        return exact.includes(key) && ops.every((op) => ['eq', '$in', '$nin', '$ne'].includes(op))
      })
    return ok(query)
  }

  it('answers every query operator on every field of every resource, and never matches past what the caller may read', async () => {
    const paths = [...Object.keys(collections), ...Object.keys(gets)]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.nat({ max: 4 }), fc.nat(), fc.context(), async (path, who, seed, ctx) => {
        const collection = gets[path] ?? path
        const reader = readers[who]!
        const query = { ...(collections[collection]?.query?.(reader.actor) ?? {}), ...fc.sample(queryFor(collection), { numRuns: 1, seed })[0]! }
        const url = `${resolvePath(path, '')}?${encodeQuery(query)}`
        requests++
        const answer = await json(stack.base, 'GET', url, undefined, reader.actor.token)
        ctx.log(`GET ${url} as ${reader.actor.label}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`)
        const problem = errorBodyProblem(answer.status, typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
        if (problem || answer.status >= 500) return false
        if (answer.status !== 200) return true
        const rows: Array<Record<string, unknown>> = gets[path] ? [answer.body] : Array.isArray(answer.body) ? answer.body : answer.body.data
        if (!gets[path] && typeof answer.body.limit === 'number' && /^\d+$/.test(String(query.$limit)) && Number(query.$limit) >= 2 && answer.body.limit < 2) {
          ctx.log(`$limit ${query.$limit} became ${answer.body.limit}`)
          return false
        }
        // $limit pages a find; a get by id answers its one record whatever $limit says
        const why = readProblem(collection, reader, gets[path] ? { ...query, $limit: undefined } : query, rows)
        if (why) ctx.log(why)
        return why === undefined
      }),
      { numRuns: share(0.25) }
    )
  })

  it("filters /orders by every figure and id there is, as each buyer and seller, and finds only what that caller is shown", async () => {
    const fields = ['total', 'buyerId', 'id', 'status', 'currency']
    const value = fc.oneof(fc.constantFrom(...figures.map(String)), fc.constantFrom(...Object.values(ids), 'created', 'EUR'))
    const condition = fc.oneof(
      value,
      fc.tuple(fc.constantFrom('$lt', '$lte', '$gt', '$gte', '$ne'), fc.constantFrom(...figures.map(String))).map(([op, v]) => ({ [op]: v })),
      fc.tuple(fc.constantFrom('$in', '$nin'), fc.array(value, { minLength: 1, maxLength: 3 })).map(([op, v]) => ({ [op]: v }))
    )
    // mostly the figures: fields a caller may not filter on (a 400) teach nothing about leaks
    const field = fc.oneof({ weight: 6, arbitrary: fc.constant('total') }, { weight: 2, arbitrary: fc.constantFrom('status', 'currency') }, { weight: 1, arbitrary: fc.constantFrom(...fields) })
    const filter = fc.dictionary(field, condition, { minKeys: 1, maxKeys: 2 })
    const query = fc.oneof(filter, filter.chain((f) => fc.array(filter, { minLength: 1, maxLength: 3 }).map(($or) => ({ ...f, $or }))))
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 3 }), query, fc.context(), async (who, q, ctx) => {
        const reader = readers[who]!
        requests++
        const answer = await json(stack.base, 'GET', `/orders?${encodeQuery(q)}`, undefined, reader.actor.token)
        ctx.log(`GET /orders?${encodeQuery(q)} as ${reader.actor.label}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`)
        if (answer.status >= 500) return false
        if (answer.status !== 200) return true
        const why = readProblem('/orders', reader, q, answer.body.data ?? answer.body)
        if (why) ctx.log(why)
        return why === undefined
      }),
      { numRuns: share(0.1) }
    )
  })

  it('caps a huge $limit at the maximum (or refuses it) instead of answering one record', async () => {
    for (const [path, token] of [['/products', undefined], ['/orders', readers[0]!.actor.token], ['/notifications?userId=' + ids.buyer, readers[0]!.actor.token]] as const) {
      requests++
      const answer = await json(stack.base, 'GET', `${path}${path.includes('?') ? '&' : '?'}$limit=99999999999999999999999`, undefined, token)
      expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).to.be.oneOf([200, 400])
      if (answer.status === 200) expect(answer.body.limit, path).to.be.greaterThan(1)
    }
  })

  it('a seller filtering orders by a figure they are not shown finds nothing; a buyer only ever finds their own', async () => {
    const seller = readers[2]!.actor
    const shared = await json(stack.base, 'GET', `/orders/${ids.shared}`, undefined, readers[0]!.actor.token)
    expect(shared.status).to.equal(200)
    for (const query of [{ total: String(shared.body.total) }, { total: { $gte: String(shared.body.total) } }, { total: { $gt: String(shared.body.total - 1) } }]) {
      requests++
      const answer = await json(stack.base, 'GET', `/orders?${encodeQuery(query)}`, undefined, seller.token)
      expect(answer.status, JSON.stringify(answer.body)).to.be.within(200, 499)
      const rows = answer.status === 200 ? (answer.body.data ?? answer.body) : []
      expect(rows.map((r: { id: string }) => r.id), `seller, ${encodeQuery(query)}`).not.to.include(ids.shared)
    }
    for (const reader of readers.filter((r) => r.role === 'buyer')) {
      requests++
      const answer = await json(stack.base, 'GET', `/orders?${encodeQuery({ $or: [{ buyerId: ids.buyer }, { total: { $gte: '0' } }] })}`, undefined, reader.actor.token)
      const rows: Array<{ buyerId?: string }> = answer.status === 200 ? (answer.body.data ?? answer.body) : []
      for (const row of rows) expect(row.buyerId, reader.actor.label).to.equal(reader.actor.id)
    }
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

async function eventuallyOrder(base: string, token: string, ...productIds: string[]) {
  // The product reaches orders' projection through product.created: retry until it is known.
  return waitFor(async () => {
    const answer = await json(base, 'POST', '/orders', { items: productIds.map((productId) => ({ productId, quantity: 1 })) }, token)
    return answer.status === 201 ? answer.body : undefined
  }, { timeoutMs: 15_000, what: 'the product to reach the orders projection' })
}


/**
 * Whatever the status, an error answer is a Feathers error body whose name and
 * className are its own status's (a 413 is not called BadRequest).
 */
function errorBodyProblem(status: number, text: string): string | undefined {
  if (status < 400) return undefined
  let body: { name?: string; code?: number; className?: string }
  try {
    body = JSON.parse(text)
  } catch {
    return `${status} without a JSON error body: ${text.slice(0, 100)}`
  }
  if (body.code !== status) return `${status} with code ${body.code} in its body`
  const expected: Record<number, [string, string]> = {
    400: ['BadRequest', 'bad-request'], 401: ['NotAuthenticated', 'not-authenticated'], 403: ['Forbidden', 'forbidden'],
    404: ['NotFound', 'not-found'], 405: ['MethodNotAllowed', 'method-not-allowed'], 409: ['Conflict', 'conflict'],
    413: ['PayloadTooLarge', 'payload-too-large'], 415: ['UnsupportedMediaType', 'unsupported-media-type'], 429: ['TooManyRequests', 'too-many-requests']
  }
  const [name, className] = expected[status] ?? [body.name, body.className]
  if (body.name !== name || body.className !== className) return `${status} named ${body.name}/${body.className}`
  return undefined
}
