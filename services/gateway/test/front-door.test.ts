import { expect } from 'chai'
import { dropNamespaceSchemas, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const origin = 'https://shop.example.com'

/**
 * The gateway answers from three places (Koa, its reverse proxy, its SSE
 * endpoint) and CORS preflights before any of them; one server, one request
 * listener, and the same request-id rule and error body from all of them.
 */
describe('gateway: one front door for Koa, the proxy and the stream', function () {
  const ns = uniqueNamespace('gateway-front-door')
  let running: RunningApp

  before(async () => {
    running = await startApp(createApp(testEnv(ns), { ...process.env, CORS_ORIGINS: origin, ORDERS_URL: 'http://127.0.0.1:1' }))
  })

  after(async () => {
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('is one request listener on its server, not listeners stacked or swapped', () => {
    expect(running.server.listenerCount('request')).to.equal(1)
  })

  const answers = {
    'an own path (Koa)': { method: 'GET', path: '/nowhere', status: 404, name: 'NotFound' },
    'a proxied path whose service is down': { method: 'GET', path: '/orders', status: 502, name: 'BadGateway' },
    'the stream without credentials': { method: 'GET', path: '/events', status: 401, name: 'NotAuthenticated' },
    'the stream with a wrong method': { method: 'POST', path: '/events', status: 405, name: 'MethodNotAllowed' }
  }

  for (const [where, { method, path, status, name }] of Object.entries(answers)) {
    it(`${where}: echoes a sane X-Request-Id, replaces another, and answers a Feathers error body with CORS headers`, async () => {
      const kept = await fetch(`${running.url}${path}`, { method, headers: { origin, 'x-request-id': 'front-door-1' } })
      expect(kept.status).to.equal(status)
      expect(kept.headers.get('x-request-id')).to.equal('front-door-1')
      expect(kept.headers.get('access-control-allow-origin')).to.equal(origin)
      const body = (await kept.json()) as Record<string, unknown>
      expect(body).to.include({ name, code: status })
      expect(body).to.have.property('className').that.is.a('string')
      expect(body).to.have.property('message').that.is.a('string')

      const replaced = await fetch(`${running.url}${path}`, { method, headers: { origin, 'x-request-id': 'not sane!' } })
      expect(replaced.status).to.equal(status)
      expect(replaced.headers.get('x-request-id')).to.match(uuid)
      await replaced.body?.cancel()
    })
  }

  it('answers a preflight for any path before Koa, with a request id of the same rule', async () => {
    const preflight = await fetch(`${running.url}/events`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'x-request-id': 'front-door-2' }
    })
    expect(preflight.status).to.equal(204)
    expect(preflight.headers.get('x-request-id')).to.equal('front-door-2')
  })
})
