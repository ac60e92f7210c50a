import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { Management, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, headerOf, RawBroker, registered, startBus, updated } from './support.ts'

/** Delays short enough for a test, long enough to be measured. */
const delaysMs = [200, 400]

describe('delayed (non-blocking) retry', () => {
  const ns = uniqueNamespace('retry')
  let producer: Bus
  let bus: Bus
  let consumer: Consumer
  let raw: RawBroker
  /** per user id: when each handler run started, and whether it had its effect */
  const runs = new Map<string, number[]>()
  const effects = new Map<string, number>()

  const record = (userId: string) => {
    const list = runs.get(userId) ?? []
    list.push(Date.now())
    runs.set(userId, list)
    return list.length
  }

  before(async () => {
    raw = await RawBroker.open()
    producer = await startBus(ns, 'users')
    bus = await startBus(ns, 'benefits')
    consumer = bus.consumer({
      service: 'benefits', purpose: 'user-events', bindings: ['user.#'],
      retry: { kind: 'delayed', delaysMs },
      handlers: {
        // fails twice, then succeeds
        [USER_REGISTERED]: async ({ payload }) => {
          if (record(payload.userId) <= 2) throw new Error('database briefly unavailable')
          effects.set(payload.userId, (effects.get(payload.userId) ?? 0) + 1)
        },
        // always fails
        [USER_UPDATED]: async ({ payload }) => {
          record(payload.userId)
          throw new Error(`cannot update ${payload.userId}`)
        }
      }
    })
    await bus.startConsumers()
  })

  after(() => cleanUp(ns, bus, producer, raw))

  it('declares one quorum delay queue per distinct delay, dead-lettering back to the work queue', async () => {
    const queues = await new Management().queues(ns)
    for (const delay of delaysMs) {
      const queue = queues.find((q) => q.name === names.retryQueue(consumer.queue, delay))
      expect(queue, `delay queue for ${delay} ms`).to.exist
      expect(queue!.arguments).to.include({
        'x-queue-type': 'quorum', 'x-message-ttl': delay, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': consumer.queue
      })
    }
  })

  it('a handler failing twice then succeeding has its effect once, after the backoff delays', async () => {
    const user = registered()
    await producer.publisher.publish(USER_REGISTERED, user)
    await waitFor(() => effects.get(user.userId), { what: 'the effect after two retries' })
    const times = runs.get(user.userId)!
    expect(times).to.have.length(3)
    expect(times[1]! - times[0]!, 'first backoff').to.be.at.least(delaysMs[0]!)
    expect(times[2]! - times[1]!, 'second backoff').to.be.at.least(delaysMs[1]!)
    expect(times[2]! - times[0]!).to.be.at.least(delaysMs[0]! + delaysMs[1]!)

    // nothing is left parked anywhere, and the effect happened exactly once
    const marker = registered()
    await producer.publisher.publish(USER_REGISTERED, marker)
    await waitFor(() => effects.get(marker.userId), { what: 'a later message' })
    expect(effects.get(user.userId)).to.equal(1)
    expect(await raw.drain(names.deadLetterQueue(consumer.queue))).to.have.length(0)
  })

  it('a handler that always fails ends in the dead-letter queue after the configured attempts, with the failures recorded', async () => {
    const user = updated()
    const { messageId } = await producer.publisher.publish(USER_UPDATED, user)
    const [letter] = await raw.takeExactly(names.deadLetterQueue(consumer.queue), 1)
    const times = runs.get(user.userId)!
    expect(times, 'handler runs').to.have.length(delaysMs.length + 1)
    expect(letter!.properties.messageId).to.equal(messageId)
    expect(letter!.properties.type).to.equal(USER_UPDATED)
    expect(JSON.parse(letter!.content.toString())).to.deep.equal(user)
    expect(headerOf(letter!, Headers.attempts)).to.equal(delaysMs.length + 1)
    expect(headerOf(letter!, Headers.errorKind)).to.equal('handler')
    expect(headerOf(letter!, Headers.error)).to.equal(`cannot update ${user.userId}`)
    expect(headerOf(letter!, Headers.originalQueue)).to.equal(consumer.queue)
    expect(headerOf(letter!, Headers.originalRoutingKey)).to.equal(USER_UPDATED)
    expect(headerOf(letter!, Headers.originalExchange)).to.equal(names.eventsExchange(ns))
    const first = Date.parse(String(headerOf(letter!, Headers.firstFailureAt)))
    const last = Date.parse(String(headerOf(letter!, Headers.lastFailureAt)))
    expect(first).to.be.closeTo(times[0]!, 1_000)
    expect(last - first, 'from the first failure to the last').to.be.at.least(delaysMs[0]! + delaysMs[1]! - 5)
  })
})
