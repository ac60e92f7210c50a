import { expect } from 'chai'
import { connect, type Socket } from 'node:net'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp, gatewayParts } from '../app.ts'

describe('gateway: keep-alive comments', function () {
  const ns = uniqueNamespace('gateway-keepalive')
  const env = testEnv(ns)
  let running: RunningApp
  const sockets: Socket[] = []

  before(async () => {
    running = await startApp(createApp(env, { ...process.env, GATEWAY_KEEPALIVE_MS: '600' }))
  })

  after(async () => {
    for (const socket of sockets) socket.destroy()
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  /** A raw stream that counts the keep-alive comments (a line that is just `:`) it receives. */
  async function rawStream(): Promise<{ comments: () => number }> {
    const { port } = new URL(running.url)
    const socket = connect(Number(port), '127.0.0.1')
    sockets.push(socket)
    let text = ''
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    socket.write(`GET /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${identity('buyer').token}\r\n\r\n`)
    await waitFor(() => text.startsWith('HTTP/1.1 200'), { what: 'the stream to open' })
    return { comments: () => text.split('\n').filter((line) => line === ':').length }
  }

  it('every stream, also of a burst that connected together, gets a comment each interval, from one timer', async () => {
    const streams = await Promise.all(Array.from({ length: 20 }, () => rawStream()))
    expect(gatewayParts(running.app).hub.size).to.equal(20)
    // 600 ms interval: within 3 s each stream has had at least two, wherever its slot of the interval is
    await waitFor(() => streams.every((s) => s.comments() >= 2), { timeoutMs: 3_000, what: 'two keep-alive comments on every stream' })
    const counts = streams.map((s) => s.comments())
    // one per interval, not more: at most 3 s / 600 ms plus the one in flight
    expect(Math.max(...counts)).to.be.at.most(7)
  })
})
