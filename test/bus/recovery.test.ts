import { expect } from 'chai'
import { setTimeout as delay } from 'node:timers/promises'
import type { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { brokerConnections, cleanUp, forceCloseConnection, inboxConsumer, publishUsers, RawBroker, startBus, type InboxConsumer } from './support.ts'

const total = 1_000

describe('recovery from a lost connection', () => {
  const ns = uniqueNamespace('recovery')
  let producer: Bus
  let projector: InboxConsumer
  let raw: RawBroker
  let handled = 0
  let connects = 0

  before(async () => {
    raw = await RawBroker.open()
    producer = await startBus(ns, 'users')
    projector = await inboxConsumer(ns, 'projector', {
      purpose: 'users', prefetch: 20,
      effect: async () => {
        await delay(5) // a projection's write: keeps 1,000 messages flowing long enough to be interrupted
        handled++
      }
    })
    projector.bus.connection.on('connect', () => connects++)
  })

  after(() => cleanUp(ns, projector?.bus, producer, raw, projector?.db))

  it('processes every one of 1,000 messages when the consumer connection is force-closed mid-stream', async () => {
    // looked up first, so the close lands while the stream flows
    const connection = await brokerConnections(`${ns}.projector`)
    const publishing = publishUsers(producer, total)
    await waitFor(() => handled >= 100, { what: 'the stream to be flowing' })
    await forceCloseConnection(connection)
    const processedAtClose = await projector.processed()
    await publishing
    expect(processedAtClose, 'closed mid-stream').to.be.below(total)

    await waitFor(async () => (await projector.processed()) === total, { timeoutMs: 30_000, what: `all ${total} messages processed` })
    expect(connects, 'reconnected').to.be.at.least(1)
    expect(projector.bus.connection.isConnected).to.equal(true)
    expect(await raw.drain(names.deadLetterQueue(projector.consumer.queue)), 'nothing dead-lettered').to.have.length(0)
  })
})
