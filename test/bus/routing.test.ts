import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, registered, startBus, updated } from './support.ts'

describe('topic routing', () => {
  const ns = uniqueNamespace('routing')
  let producer: Bus
  let consumers: Bus
  const notifications: Envelope[] = []
  const chat: Envelope[] = []

  before(async () => {
    producer = await startBus(ns, 'users')
    consumers = await startBus(ns, 'subscribers')
    const keep = (into: Envelope[]) => async (message: Envelope) => { into.push(message) }
    consumers.consumer({
      service: 'notifications', purpose: 'user-events', bindings: ['user.#'],
      handlers: { [USER_REGISTERED]: keep(notifications), [USER_UPDATED]: keep(notifications) }
    })
    consumers.consumer({
      service: 'chat', purpose: 'user-updates', bindings: [USER_UPDATED],
      handlers: { [USER_UPDATED]: keep(chat) }
    })
    await consumers.startConsumers()
  })

  after(() => cleanUp(ns, consumers, producer))

  it('a consumer bound to user.# gets user.registered and user.updated; one bound to user.updated gets only that', async () => {
    const first = await producer.publisher.publish(USER_REGISTERED, registered())
    const second = await producer.publisher.publish(USER_UPDATED, updated())
    expect(first.routed).to.equal(true)
    expect(second.routed).to.equal(true)

    await waitFor(() => notifications.length >= 2 && chat.length >= 1, { what: 'both consumers to receive their events' })
    expect(notifications.map((m) => [m.id, m.routingKey])).to.have.deep.members([
      [first.messageId, USER_REGISTERED],
      [second.messageId, USER_UPDATED]
    ])
    expect(chat.map((m) => [m.id, m.routingKey])).to.deep.equal([[second.messageId, USER_UPDATED]])

    // a marker behind both proves chat has seen everything it ever will: nothing else arrives
    const marker = await producer.publisher.publish(USER_UPDATED, updated())
    await waitFor(() => chat.some((m) => m.id === marker.messageId), { what: 'the marker at chat' })
    expect(chat.map((m) => m.routingKey)).to.deep.equal([USER_UPDATED, USER_UPDATED])
  })
})
