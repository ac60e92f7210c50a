import { expect } from 'chai'
import { connect } from 'node:net'
import type { Bus } from '../../../shared/bus/bus.ts'
import { MAINTENANCE_SCHEDULED } from '../../../shared/contracts/index.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp, gatewayParts } from '../app.ts'
import { listen, opened, producer, type Listener } from './support.ts'

describe('gateway: a slow client never holds up the others', function () {
  const ns = uniqueNamespace('gateway-slow')
  const env = testEnv(ns)
  let running: RunningApp
  let bus: Bus
  let fast: Listener | undefined

  before(async () => {
    running = await startApp(createApp(env, { ...process.env, GATEWAY_MAX_CLIENT_BUFFER_BYTES: '65536' }))
    bus = await producer(env, 'cli')
  })

  after(async () => {
    fast?.close()
    await bus?.stop()
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('a client that stops reading is disconnected once its buffer is full; the others get everything', async () => {
    const { port } = new URL(running.url)
    const slow = connect(Number(port), '127.0.0.1')
    slow.on('error', () => {})
    const hub = gatewayParts(running.app).hub
    slow.write(`GET /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${identity('buyer').token}\r\n\r\n`)
    await new Promise((resolve) => slow.once('data', resolve))
    slow.pause() // reads nothing more: the kernel buffers fill, then the server's

    fast = listen(running.url, identity('buyer').token)
    await opened(fast)
    expect(hub.size).to.equal(2)
    const closed = () => hub.size === 1
    const big = 'x'.repeat(256 * 1024)
    let sent = 0
    while (!closed() && sent < 120) {
      sent++
      await bus.publisher.publish(MAINTENANCE_SCHEDULED, {
        id: `big-${sent}`, message: big, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString()
      })
      await waitFor(() => fast!.of('maintenance').length === sent, { what: `notice ${sent} at the fast client` })
    }
    await waitFor(closed, { what: 'the slow client to be disconnected' })
    await new Promise((resolve) => { slow.once('close', resolve); slow.resume() }) // and its connection is gone
    expect(fast.of('maintenance')).to.have.length(sent)
    slow.destroy()
  })
})
