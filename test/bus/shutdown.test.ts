import { expect } from 'chai'
import { setTimeout as delay } from 'node:timers/promises'
import type { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, inboxConsumer, publishUsers, RawBroker, startBus, type InboxConsumer } from './support.ts'

const total = 300

describe('graceful shutdown of a consumer', () => {
  const ns = uniqueNamespace('shutdown')
  let producer: Bus
  let mailer: InboxConsumer
  let raw: RawBroker
  let started = 0
  let finished = 0

  before(async () => {
    raw = await RawBroker.open()
    producer = await startBus(ns, 'users')
    mailer = await inboxConsumer(ns, 'mailer', {
      purpose: 'welcome', prefetch: 10,
      effect: async () => {
        started++
        await delay(5) // the work a handler does (sending an email): in flight when stop() is called
        finished++
      }
    })
  })

  after(() => cleanUp(ns, mailer?.bus, producer, raw, mailer?.db))

  it('stopping mid-stream finishes the messages in hand and loses nothing; the rest are processed after restart', async () => {
    const { consumer } = mailer
    await publishUsers(producer, total, 50)
    await waitFor(() => finished >= 30, { what: 'the stream to be flowing' })
    await consumer.stop()
    expect(finished, 'every handler that started has finished').to.equal(started)
    const atStop = await mailer.processed()
    expect(atStop, 'stopped mid-stream').to.be.below(total)
    expect(atStop).to.equal(finished)

    // stopped means stopped: the rest wait in the queue, none is taken
    await waitFor(async () => {
      const q = await raw.channel.checkQueue(consumer.queue)
      return q.consumerCount === 0 && q.messageCount === total - atStop
    }, { what: `no consumer on the queue and the ${total - atStop} unprocessed messages ready in it` })
    expect(started).to.equal(finished)

    await consumer.start()
    await waitFor(async () => (await mailer.processed()) === total, { timeoutMs: 20_000, what: `all ${total} processed after restart` })
    expect(started, 'each message had its effect once').to.equal(total)
    expect(await raw.drain(names.deadLetterQueue(consumer.queue))).to.have.length(0)
  })
})
