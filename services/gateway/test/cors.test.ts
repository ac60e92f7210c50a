import { expect } from 'chai'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'
import { corsPolicy } from '../cors.ts'

const allowed = 'https://shop.example.com'
const stranger = 'https://evil.example.net'

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/**
 * One request over node:http, as a browser would send it (fetch may not set
 * `Origin`). For a stream, resolves on the response head and closes it.
 */
function send(origin: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, origin), { method, headers }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        resolve({ status: res.statusCode!, headers: res.headers, body: '' })
        res.destroy()
        return
      }
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} got no answer`)))
    req.end(body)
  })
}

function preflight(url: string, path: string, from: string, method = 'POST', requested = 'authorization, content-type') {
  return send(url, 'OPTIONS', path, { origin: from, 'access-control-request-method': method, 'access-control-request-headers': requested })
}

/** What every response to an allowed origin carries. */
function expectAllowed(answer: Answer): void {
  expect(answer.headers['access-control-allow-origin'], JSON.stringify(answer.headers)).to.equal(allowed)
  expect(answer.headers['access-control-allow-credentials']).to.equal('true')
  expect(String(answer.headers.vary).split(/,\s*/)).to.include('Origin')
}

function expectExposed(answer: Answer): void {
  const exposed = String(answer.headers['access-control-expose-headers']).toLowerCase().split(/,\s*/)
  expect(exposed).to.include.members(['x-request-id', 'retry-after', 'location'])
}

function expectPreflightAnswered(answer: Answer): void {
  expect(answer.status, answer.body).to.equal(204)
  expectAllowed(answer)
  const methods = String(answer.headers['access-control-allow-methods']).split(',')
  expect(methods).to.include.members(['GET', 'POST', 'PATCH', 'DELETE'])
  const headers = String(answer.headers['access-control-allow-headers']).toLowerCase().split(',')
  expect(headers).to.include.members(['authorization', 'content-type', 'last-event-id', 'idempotency-key', 'x-request-id'])
  expect(Number(answer.headers['access-control-max-age'])).to.be.greaterThan(0)
  expect(answer.headers['x-request-id']).to.be.a('string')
}

describe('gateway: CORS on the public origin', function () {
  const ns = uniqueNamespace('gateway-cors')
  let running: RunningApp
  let users: Server

  before(async () => {
    // A stand-in users service that sets CORS headers of its own, which the gateway must not pass on.
    users = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', vary: 'Accept-Encoding', 'access-control-allow-origin': '*', 'access-control-allow-methods': 'TRACE' })
        res.end(JSON.stringify({ ok: true }))
      })
    })
    await new Promise<void>((resolve) => users.listen(0, '127.0.0.1', resolve))
    const vars = {
      ...process.env,
      CORS_ORIGINS: `${allowed}, https://admin.example.com`,
      USERS_URL: `http://127.0.0.1:${(users.address() as AddressInfo).port}`,
      ORDERS_URL: 'http://127.0.0.1:1' // nothing listens there: 502
    }
    running = await startApp(createApp(testEnv(ns), vars))
  })

  after(async () => {
    await running?.stop()
    await new Promise((resolve) => users?.close(resolve))
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('answers a preflight with 204 for an own path, a proxied path and /events', async () => {
    expectPreflightAnswered(await preflight(running.url, '/appliances', allowed))
    expectPreflightAnswered(await preflight(running.url, '/users', allowed, 'POST', 'content-type, idempotency-key, x-request-id'))
    expectPreflightAnswered(await preflight(running.url, '/orders/123', allowed, 'GET'))
    expectPreflightAnswered(await preflight(running.url, '/events', allowed, 'GET', 'authorization, last-event-id'))
  })

  it('puts the headers on own answers, proxied answers (replacing the service\'s) and the SSE stream', async () => {
    const own = await send(running.url, 'GET', '/maintenance-notices', { origin: allowed })
    expect(own.status).to.equal(200)
    expectAllowed(own)
    expectExposed(own)

    const proxied = await send(running.url, 'POST', '/users', { origin: allowed, 'content-type': 'application/json' }, '{}')
    expect(proxied.status).to.equal(201)
    expectAllowed(proxied)
    expectExposed(proxied)
    expect(proxied.headers['access-control-allow-methods']).to.equal(undefined)
    expect(String(proxied.headers.vary).split(/,\s*/)).to.include.members(['Accept-Encoding', 'Origin'])

    const stream = await send(running.url, 'GET', '/events', { origin: allowed, authorization: `Bearer ${identity('buyer').token}` })
    expect(stream.status).to.equal(200)
    expect(stream.headers['content-type']).to.match(/^text\/event-stream/)
    expectAllowed(stream)
    expectExposed(stream)
  })

  it('puts them on errors too: 401, 404, 413, 502 and a refused stream', async () => {
    const answers = {
      401: await send(running.url, 'POST', '/appliances', { origin: allowed, 'content-type': 'application/json' }, '{"name":"x"}'),
      404: await send(running.url, 'GET', '/nowhere', { origin: allowed }),
      413: await send(running.url, 'POST', '/maintenance-notices', { origin: allowed, 'content-type': 'application/json' }, `{"message":"${'x'.repeat(1_200_000)}"}`),
      502: await send(running.url, 'GET', '/orders', { origin: allowed }),
      stream401: await send(running.url, 'GET', '/events', { origin: allowed })
    }
    for (const [what, answer] of Object.entries(answers)) {
      const expected = what === 'stream401' ? 401 : Number(what)
      expect(answer.status, `${what}: ${answer.body}`).to.equal(expected)
      expect(JSON.parse(answer.body).code, what).to.equal(expected)
      expectAllowed(answer)
      expectExposed(answer)
    }
  })

  it('gives an origin not allowed no Access-Control-Allow-Origin, preflight or not', async () => {
    for (const answer of [
      await preflight(running.url, '/users', stranger),
      await preflight(running.url, '/appliances', stranger),
      await preflight(running.url, '/events', stranger, 'GET'),
      await send(running.url, 'POST', '/users', { origin: stranger, 'content-type': 'application/json' }, '{}'),
      await send(running.url, 'GET', '/maintenance-notices', { origin: stranger }),
      await send(running.url, 'GET', '/events', { origin: stranger, authorization: `Bearer ${identity('buyer').token}` })
    ]) {
      expect(answer.headers['access-control-allow-origin'], JSON.stringify(answer.headers)).to.equal(undefined)
      expect(answer.headers['access-control-allow-credentials']).to.equal(undefined)
      expect(String(answer.headers.vary).split(/,\s*/), 'caches must keep answers per origin').to.include('Origin')
    }
  })

  it('reads CORS_ORIGINS strictly: "*" only alone, only real origins', () => {
    expect(corsPolicy(undefined)).to.deep.equal({ anyOrigin: false, origins: new Set() })
    expect(corsPolicy('*').anyOrigin).to.equal(true)
    expect([...corsPolicy('https://A.example.com, http://localhost:5173').origins]).to.deep.equal(['https://a.example.com', 'http://localhost:5173'])
    for (const bad of ['*, https://a.example.com', 'null', 'https://a.example.com/app', 'shop.example.com', 'file:///x']) {
      expect(() => corsPolicy(bad), bad).to.throw(/CORS_ORIGINS/)
    }
  })
})

describe('gateway: CORS_ORIGINS=* opens the API to any origin, without credentials', function () {
  const ns = uniqueNamespace('gateway-cors-any')
  let running: RunningApp

  before(async () => {
    running = await startApp(createApp(testEnv(ns), { ...process.env, CORS_ORIGINS: '*' }))
  })

  after(async () => {
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('answers "*" and never allows credentials with it', async () => {
    for (const answer of [await preflight(running.url, '/appliances', stranger), await send(running.url, 'GET', '/maintenance-notices', { origin: stranger })]) {
      expect(answer.headers['access-control-allow-origin']).to.equal('*')
      expect(answer.headers['access-control-allow-credentials']).to.equal(undefined)
    }
  })
})

describe('gateway: without CORS_ORIGINS there is no CORS', function () {
  const ns = uniqueNamespace('gateway-cors-off')
  let running: RunningApp

  before(async () => {
    const vars = { ...process.env }
    delete vars.CORS_ORIGINS
    running = await startApp(createApp(testEnv(ns), vars))
  })

  after(async () => {
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('sends no Access-Control-* header to any origin', async () => {
    const answer = await send(running.url, 'GET', '/maintenance-notices', { origin: allowed })
    expect(answer.status).to.equal(200)
    expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).to.deep.equal([])
  })
})
