import { expect } from 'chai'
import http from 'node:http'
import { createApp, gatewayParts } from '../../services/gateway/app.ts'
import { Management } from '../../shared/testing/broker.ts'
import { dropNamespaceSchemas } from '../../shared/testing/database.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { startApp, type RunningApp } from '../../shared/testing/server.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'

/**
 * The SSE endpoint under abuse: malformed Last-Event-ID values, forged and
 * expired tokens, and thousands of connect/disconnect cycles. Every attempt
 * gets 401 or a correct stream, and the gateway ends with no leaked streams
 * and no growing heap.
 */
describe('SSE under abuse', function () {
  this.timeout(240_000)
  const namespace = uniqueNamespace('sseabuse')
  let gateway: RunningApp
  const agent = new http.Agent({ keepAlive: false, maxSockets: 64 })

  before(async () => {
    // One user opens 16 streams at a time here: above the default cap of streams per principal.
    gateway = await startApp(createApp(testEnv(namespace), { ...process.env, GATEWAY_MAX_STREAMS_PER_PRINCIPAL: '64' }))
  })

  after(async () => {
    agent.destroy()
    await gateway?.stop()
    await new Management().deleteNamespace(namespace)
    await dropNamespaceSchemas(namespace)
  })

  /** Opens /events, reads until the first bytes of the stream (or the whole refusal), then hangs up. */
  function connectOnce(headers: Record<string, string>, path = '/events'): Promise<{ status: number; head: string }> {
    return new Promise((resolve, reject) => {
      const request = http.get(`${gateway.url}${path}`, { headers, agent }, (response) => {
        let head = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          head += chunk
          if (response.statusCode === 200 && head.length > 0) {
            request.destroy()
            resolve({ status: 200, head })
          }
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, head }))
        response.on('error', () => resolve({ status: response.statusCode ?? 0, head }))
      })
      request.on('error', (err) => (request.destroyed ? undefined : reject(err)))
      request.setTimeout(10_000, () => request.destroy(new Error('no answer within 10 s')))
    })
  }

  const user = identity('buyer')
  const badLastEventIds = ['', '-1', 'abc', '1e99', '99999999999999999999999', "1; drop table events", '\u0000', '0x10', ' 42 ', 'NaN', '1.5']

  it('treats a malformed Last-Event-ID as absent: a correct stream, never an error', async () => {
    for (const lastEventId of badLastEventIds) {
      const headers: Record<string, string> = { authorization: `Bearer ${user.token}` }
      if (!/[\u0000]/.test(lastEventId)) headers['last-event-id'] = lastEventId
      const answer = await connectOnce(headers, `/events?lastEventId=${encodeURIComponent(lastEventId)}`)
      expect(answer.status, `Last-Event-ID ${JSON.stringify(lastEventId)}`).to.equal(200)
      expect(answer.head).to.match(/^(:|retry:|id:|event:)/m)
    }
  })

  it('refuses expired, forged and malformed tokens with 401 and no stream', async () => {
    const expired = identity('buyer')
    const [h, p] = expired.token.split('.') as [string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    const past = Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString('base64url')
    for (const token of [`${h}.${past}.x`, identity('admin', 'mallory', 'another-secret').token, 'Bearer', '..', 'x'.repeat(4000)]) {
      for (const headers of [{ authorization: `Bearer ${token}` }, {}] as Array<Record<string, string>>) {
        const path = Object.keys(headers).length ? '/events' : `/events?token=${encodeURIComponent(token)}`
        const answer = await connectOnce(headers, path)
        expect(answer.status).to.equal(401)
        expect(answer.head).not.to.match(/^event:/m)
      }
    }
  })

  it('survives thousands of connect/disconnect cycles without leaking streams or memory', async () => {
    const hub = gatewayParts(gateway.app).hub
    const cycle = async (i: number) => {
      const forged = i % 5 === 0
      const answer = await connectOnce({ authorization: `Bearer ${forged ? 'forged.token.value' : user.token}` })
      expect(answer.status).to.equal(forged ? 401 : 200)
    }
    const run = async (from: number, count: number, parallel = 16) => {
      for (let i = from; i < from + count; i += parallel) {
        await Promise.all(Array.from({ length: Math.min(parallel, from + count - i) }, (_, k) => cycle(i + k)))
      }
    }
    await run(0, 500) // warm up: caches, JIT, pools
    await waitFor(() => hub.size === 0, { timeoutMs: 10_000, what: 'every warm-up stream to be released' })
    global.gc?.()
    const before = process.memoryUsage().heapUsed
    await run(500, 2_500)
    await waitFor(() => hub.size === 0, { timeoutMs: 10_000, what: 'every stream to be released' })
    global.gc?.()
    const grown = process.memoryUsage().heapUsed - before
    expect(hub.size, 'open streams after all clients left').to.equal(0)
    // Each cycle that leaked a stream would hold tens of KB: 2,500 of them would be tens of MB.
    expect(grown, `heap grew by ${Math.round(grown / 1024)} KB`).to.be.below(15 * 1024 * 1024)
  })
})
