import { expect } from 'chai'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import type { Bus } from '../../shared/bus/bus.ts'
import { redactUrl } from '../../shared/config/env.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, env, forceCloseConnection, inboxConsumer, publishUsers, startBus, type InboxConsumer } from './support.ts'

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The machine's broker under a second spelling: a host list of two entries that are both this broker. */
const sameBrokerAgain = (() => {
  const url = new URL(env.amqpUrl)
  url.searchParams.set('locale', 'en_US') // amqplib's default: only tells the two entries apart
  return url.toString()
})()

describe('a bus given several brokers (AMQP_URL host list)', () => {
  const ns = uniqueNamespace('failover')
  let producer: Bus | undefined
  let projector: InboxConsumer | undefined
  let handled = 0

  after(() => cleanUp(ns, projector?.bus, producer, projector?.db))

  it('connects to the next broker when the first is unreachable, and its messages flow', async () => {
    const dead = `amqp://guest:guest@127.0.0.1:${await closedPort()}`
    producer = await startBus(ns, 'users', { urls: [dead, env.amqpUrl] })
    expect(producer.connection.isConnected).to.equal(true)
    expect(producer.connection.broker).to.equal(redactUrl(env.amqpUrl))
    projector = await inboxConsumer(ns, 'projector', {
      purpose: 'users', prefetch: 20, bus: { urls: [env.amqpUrl, sameBrokerAgain] },
      effect: async () => {
        await delay(3) // a projection's write: keeps the stream flowing long enough to be cut
        handled++
      }
    })
    await publishUsers(producer, 50)
    await waitFor(async () => (await projector!.processed()) === 50, { timeoutMs: 15_000, what: '50 messages through the second broker of the list' })
  })

  it('moves on to the next broker when its connection drops, and back to the first after the last, losing nothing', async () => {
    const bus = projector!.bus
    expect(bus.connection.broker).to.equal(redactUrl(env.amqpUrl))
    const publishing = publishUsers(producer!, 600)
    await waitFor(() => handled >= 100, { what: 'the stream to be flowing' })
    await forceCloseConnection(`${ns}.projector`)
    await waitFor(() => bus.connection.isConnected && bus.connection.broker === redactUrl(sameBrokerAgain), { timeoutMs: 15_000, what: 'the consumer on the second broker of its list' })
    await waitFor(async () => (await projector!.processed()) >= 300, { timeoutMs: 30_000, what: 'messages flowing after the move' })
    await forceCloseConnection(`${ns}.projector`)
    await waitFor(() => bus.connection.isConnected && bus.connection.broker === redactUrl(env.amqpUrl), { timeoutMs: 15_000, what: 'the consumer back on the first broker' })
    await publishing
    await waitFor(async () => (await projector!.processed()) === 650, { timeoutMs: 30_000, what: 'all 650 messages processed once' })
  })

  it('moves on from a node that takes the TCP connection but never answers the handshake', async function () {
    this.timeout(30_000)
    // what a booting node, or one out of file handles, looks like to a client: accepted, then silence
    const silent = createServer((socket) => socket.on('error', () => {}))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const started = Date.now()
      const bus = await startBus(ns, 'patient', { urls: [`amqp://guest:guest@127.0.0.1:${port}`, env.amqpUrl] })
      expect(bus.connection.broker).to.equal(redactUrl(env.amqpUrl))
      expect(Date.now() - started, 'one handshake timeout, not for ever').to.be.below(20_000)
      await bus.stop()
    } finally {
      silent.close()
    }
  })

  it('gives up with one line naming every broker when none answers', async () => {
    const urls = [`amqp://guest:secret@127.0.0.1:${await closedPort()}`, `amqp://guest:secret@127.0.0.1:${await closedPort()}`]
    const started = startBus(ns, 'nobody', { urls, initialRetries: 0 })
    const err = await started.then(() => undefined, (e: Error) => e)
    expect(err?.message).to.match(/cannot reach RabbitMQ at any of .*:\*\*\*@127\.0\.0\.1:\d+\/?, .*:\*\*\*@127\.0\.0\.1:\d+/)
    expect(err?.message).not.to.include('secret')
  })
})
