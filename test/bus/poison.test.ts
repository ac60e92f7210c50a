import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, headerOf, RawBroker, registered, startBus } from './support.ts'

describe('poison messages', () => {
  const ns = uniqueNamespace('poison')
  const exchange = names.eventsExchange(ns)
  let bus: Bus
  let consumer: Consumer
  let raw: RawBroker
  const handled: Envelope[] = []
  const handlerRuns: string[] = []

  before(async () => {
    raw = await RawBroker.open()
    bus = await startBus(ns, 'notifications')
    consumer = bus.consumer({
      service: 'notifications', purpose: 'user-events', bindings: ['user.#'],
      handlers: { [USER_REGISTERED]: async (message) => { handlerRuns.push(message.id); handled.push(message) } }
    })
    await bus.startConsumers()
  })

  after(() => cleanUp(ns, bus, raw))

  /** Publishes one bad message and a good one behind it; returns the dead letter and proves the good one was handled. */
  async function poisonThenGood(routingKey: string, body: string, properties: Record<string, unknown> = {}) {
    const messageId = `poison-${Math.random().toString(36).slice(2)}`
    await raw.publishEvent(ns, routingKey, body, { contentType: 'application/json', messageId, ...properties })
    const good = registered()
    await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(good), { contentType: 'application/json' })
    await waitFor(() => handled.some((m) => (m.payload as { userId: string }).userId === good.userId), {
      what: 'the good message behind the poison to be handled'
    })
    const [letter, ...more] = await raw.takeExactly(names.deadLetterQueue(consumer.queue), 1)
    expect(more, 'dead letters').to.have.length(0)
    expect(letter!.properties.messageId).to.equal(messageId)
    expect(letter!.content.toString()).to.equal(body)
    expect(handlerRuns, 'the handler never sees a poison message').not.to.include(messageId)
    expect(headerOf(letter!, Headers.originalQueue)).to.equal(consumer.queue)
    expect(headerOf(letter!, Headers.originalRoutingKey)).to.equal(routingKey)
    expect(headerOf(letter!, Headers.originalExchange)).to.equal(exchange)
    expect(headerOf(letter!, Headers.attempts), 'no handler run, so no attempts').to.equal(0)
    expect(headerOf(letter!, Headers.deadLetteredAt)).to.be.a('string')
    return { letter: letter!, kind: headerOf(letter!, Headers.errorKind), reason: String(headerOf(letter!, Headers.error)) }
  }

  async function expectDeadLetterQueueStaysEmpty() {
    // the consumer is idle once the marker is handled: nothing more can arrive in the DLQ
    const marker = registered()
    await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(marker), { contentType: 'application/json' })
    await waitFor(() => handled.some((m) => (m.payload as { userId: string }).userId === marker.userId), { what: 'the marker' })
    expect(await raw.drain(names.deadLetterQueue(consumer.queue))).to.have.length(0)
  }

  it('dead-letters a body that is not JSON at once, with the reason, and goes on to the next message', async () => {
    const { kind, reason } = await poisonThenGood(USER_REGISTERED, '{"userId": oops')
    expect(kind).to.equal('malformed')
    expect(reason).to.match(/not JSON/)
    await expectDeadLetterQueueStaysEmpty()
  })

  it('dead-letters a JSON body that breaks the contract of its routing key, naming the failing field', async () => {
    const { kind, reason } = await poisonThenGood(USER_REGISTERED, JSON.stringify({ ...registered(), email: 'not-an-email', extra: 1 }))
    expect(kind).to.equal('contract')
    expect(reason).to.include('/email').and.to.include('extra')
    await expectDeadLetterQueueStaysEmpty()
  })

  it('dead-letters a message whose content type is not JSON', async () => {
    const { kind, reason } = await poisonThenGood(USER_REGISTERED, JSON.stringify(registered()), { contentType: 'text/plain' })
    expect(kind).to.equal('malformed')
    expect(reason).to.include('text/plain')
    await expectDeadLetterQueueStaysEmpty()
  })

  it('dead-letters a message with a routing key no contract knows', async () => {
    const { kind, reason } = await poisonThenGood('user.deleted', JSON.stringify({ userId: 'u1' }))
    expect(kind).to.equal('contract')
    expect(reason).to.include('user.deleted')
    await expectDeadLetterQueueStaysEmpty()
  })
})
