import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import { ConsumerState } from '../../shared/bus/consumer-kind.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, forceCloseConnection, registered, startBus } from './support.ts'

describe('durable consumer kind: its state, through a lost connection', () => {
  const ns = uniqueNamespace('consumer-kinds')
  let producer: Bus
  let bus: Bus
  let consumer: Consumer
  const handled: string[] = []

  before(async () => {
    producer = await startBus(ns, 'users')
    bus = await startBus(ns, 'kinds')
    consumer = bus.consumer({
      service: 'kinds',
      purpose: 'users',
      bindings: [USER_REGISTERED],
      handlers: { [USER_REGISTERED]: async (message: Envelope<typeof USER_REGISTERED>) => void handled.push(message.id) }
    })
  })

  after(() => cleanUp(ns, bus, producer))

  it('is a durable kind that is idle until started and consuming once its queue is set up', async () => {
    expect(consumer.kind).to.equal('durable')
    expect(consumer.state).to.equal(ConsumerState.Idle)
    await bus.startConsumers()
    expect(consumer.state).to.equal(ConsumerState.Consuming)
  })

  it('reattaches after its connection is lost: consuming again, and handles what is published after', async () => {
    const consuming = nextEvent(consumer, 'consuming', { timeoutMs: 30_000 })
    await forceCloseConnection(`${ns}.kinds`)
    await consuming
    expect(consumer.state).to.equal(ConsumerState.Consuming)
    const { messageId } = await producer.publisher.publish(USER_REGISTERED, registered())
    await waitFor(() => handled.includes(messageId), { timeoutMs: 15_000, what: 'a message handled after the reconnect' })
  })

  it('is stopped after stop()', async () => {
    await consumer.stop()
    expect(consumer.state).to.equal(ConsumerState.Stopped)
  })
})
