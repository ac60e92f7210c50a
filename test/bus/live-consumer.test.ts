import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import { ConsumerState } from '../../shared/bus/consumer-kind.ts'
import type { LiveConsumer, LiveMessage } from '../../shared/bus/live-consumer.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { Management, nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, forceCloseConnection, RawBroker, registered, startBus, updated } from './support.ts'

type Heard = typeof USER_REGISTERED | typeof USER_UPDATED

describe('live consumer kind (a queue of its own per process, batched)', () => {
  const ns = uniqueNamespace('live-consumer')
  let producer: Bus
  let listener: Bus
  let raw: RawBroker
  let live: LiveConsumer<Heard>
  const heard: Array<LiveMessage<Heard>> = []
  const batchSizes: number[] = []
  const ignored: string[] = []

  before(async () => {
    raw = await RawBroker.open()
    producer = await startBus(ns, 'users')
    listener = await startBus(ns, 'listener')
    live = listener.live<Heard>({
      label: 'test live',
      routingKeys: [USER_REGISTERED, USER_UPDATED],
      handle: async (batch) => {
        batchSizes.push(batch.length)
        heard.push(...batch)
      }
    })
    live.on('ignored', (routingKey, reason) => ignored.push(`${routingKey}: ${reason}`))
    expect(live.state).to.equal(ConsumerState.Idle)
    await live.start()
    expect(live.state).to.equal(ConsumerState.Consuming)
  })

  after(() => cleanUp(ns, listener, producer, raw))

  const heardIds = () => new Set(heard.map((m) => m.id))

  it('declares a server-named, exclusive, non-durable classic queue bound to its routing keys', async () => {
    const info = await new Management().request<{ exclusive: boolean; durable: boolean; auto_delete: boolean; type: string }>(
      'GET', `/api/queues/%2F/${encodeURIComponent(live.queue!)}`
    )
    expect(live.queue).to.match(/^amq\.gen-/)
    expect(info).to.include({ exclusive: true, durable: false, auto_delete: true, type: 'classic' })
  })

  it('hands over a burst in batches rather than one by one, each event checked and with its message id', async () => {
    const published = await Promise.all(Array.from({ length: 200 }, (_, i) => producer.publisher.publish(i % 2 ? USER_UPDATED : USER_REGISTERED, i % 2 ? updated() : registered())))
    await waitFor(() => published.every((p) => heardIds().has(p.messageId)), { what: 'all 200 events heard' })
    expect(Math.max(...batchSizes), 'some batch held more than one event').to.be.greaterThan(1)
    const unacked = await waitFor(async () => {
      const q = await new Management().request<{ messages_unacknowledged?: number }>('GET', `/api/queues/%2F/${encodeURIComponent(live.queue!)}`)
      return q.messages_unacknowledged === 0 ? 0 : undefined
    }, { what: 'every delivery acknowledged' })
    expect(unacked).to.equal(0)
  })

  it('passes over what breaks its contract (its durable path dead-letters it) and goes on', async () => {
    await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify({ userId: 'not-a-uuid' }), { contentType: 'application/json' })
    const after = await producer.publisher.publish(USER_REGISTERED, registered())
    await waitFor(() => heardIds().has(after.messageId), { what: 'the next event heard' })
    expect(ignored.some((line) => line.startsWith(USER_REGISTERED))).to.equal(true)
  })

  it('declares and binds its queue again after its connection is lost, and hears what is published after', async () => {
    const before = live.queue!
    const again = nextEvent<string>(live, 'consuming', { timeoutMs: 30_000 })
    await forceCloseConnection(`${ns}.listener`)
    expect(await again).to.not.equal(before)
    expect(live.state).to.equal(ConsumerState.Consuming)
    const later = await producer.publisher.publish(USER_UPDATED, updated())
    await waitFor(() => heardIds().has(later.messageId), { timeoutMs: 15_000, what: 'an event published after the reconnect' })
  })

  it('stops: no queue left on the broker, state stopped', async () => {
    const queue = live.queue!
    await live.stop()
    expect(live.state).to.equal(ConsumerState.Stopped)
    // the management API answers a queue that does not exist with nothing
    await waitFor(async () => (await new Management().request('GET', `/api/queues/%2F/${encodeURIComponent(queue)}`)) === undefined, { what: 'the live queue gone' })
  })
})
