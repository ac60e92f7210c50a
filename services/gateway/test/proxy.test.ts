import { expect } from 'chai'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dropNamespaceSchemas, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'

/** A stand-in service that answers with what it was sent. */
async function echoServer(): Promise<{ server: Server; url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => {
    seen.push(req)
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      res.writeHead(req.url?.startsWith('/users/missing') ? 404 : 201, { 'content-type': 'application/json', 'x-request-id': String(req.headers['x-request-id']) })
      res.end(JSON.stringify({ method: req.method, url: req.url, body, requestId: req.headers['x-request-id'] }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

describe('gateway: the public origin proxies the other services', function () {
  const ns = uniqueNamespace('gateway-proxy')
  let running: RunningApp
  let users: Awaited<ReturnType<typeof echoServer>>
  let silent: Server

  before(async () => {
    users = await echoServer()
    silent = createServer(() => {}) // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const vars = {
      ...process.env,
      USERS_URL: users.url,
      ORDERS_URL: 'http://127.0.0.1:1', // nothing listens there
      CATALOG_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      GATEWAY_PROXY_TIMEOUT_MS: '300'
    }
    running = await startApp(createApp(testEnv(ns), vars))
  })

  after(async () => {
    await running?.stop()
    silent?.closeAllConnections()
    await new Promise((resolve) => silent?.close(resolve))
    await new Promise((resolve) => users?.server.close(resolve))
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it("passes requests through untouched, with the client's X-Request-Id", async () => {
    const body = JSON.stringify({ email: 'a@example.com', password: 'secret', name: 'A', role: 'buyer' })
    const response = await fetch(`${running.url}/users?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc-123' },
      body
    })
    expect(response.status).to.equal(201)
    expect(response.headers.get('x-request-id')).to.equal('req-abc-123')
    expect(await response.json()).to.deep.equal({ method: 'POST', url: '/users?x=1', body, requestId: 'req-abc-123' })
    expect(users.seen.at(-1)!.headers['x-forwarded-for']).to.be.a('string')
  })

  it('gives a request without an id a new one, the same at the service and in the response', async () => {
    const response = await fetch(`${running.url}/users/missing`)
    expect(response.status).to.equal(404)
    const id = response.headers.get('x-request-id')
    expect(id).to.match(/^[0-9a-f-]{36}$/)
    expect((await response.json()).requestId).to.equal(id)
  })

  it('answers 502 with a Feathers error body when the service is down', async () => {
    const response = await fetch(`${running.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(response.status).to.equal(502)
    expect(response.headers.get('x-request-id')).to.be.a('string')
    expect(await response.json()).to.include({ name: 'BadGateway', code: 502, className: 'bad-gateway' })
  })

  it('answers 503 when the service does not answer in time', async () => {
    const response = await fetch(`${running.url}/products/1`)
    expect(response.status).to.equal(503)
    expect(await response.json()).to.include({ name: 'Unavailable', code: 503 })
  })

  it("serves its own paths itself and 404s what nobody owns", async () => {
    expect((await fetch(`${running.url}/health`)).status).to.equal(200)
    const missing = await fetch(`${running.url}/nothing-here`)
    expect(missing.status).to.equal(404)
    expect(await missing.json()).to.include({ name: 'NotFound' })
  })
})
