import { expect } from 'chai'
import type { Channel } from 'amqplib'
import type { Bus } from '../../shared/bus/bus.ts'
import { ChannelSlot, SlotState } from '../../shared/bus/channel-slot.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, RawBroker, startBus } from './support.ts'

describe('channel slot (the one channel of a publisher, consumer or listener)', () => {
  const ns = uniqueNamespace('channel-slot')
  const queue = `${ns}.slot.needed`
  let bus: Bus
  let raw: RawBroker
  let slot: ChannelSlot
  let setups = 0

  before(async () => {
    raw = await RawBroker.open()
    bus = await startBus(ns, 'slot')
    await raw.channel.assertQueue(queue, { durable: false })
    // a setup that needs something on the broker: it fails, and is retried, while that is missing
    slot = new ChannelSlot(bus.connection, {
      label: 'test slot',
      mode: 'plain',
      setup: async (channel: Channel) => {
        setups++
        await channel.checkQueue(queue)
      }
    })
    expect(slot.state).to.equal(SlotState.Idle)
    await slot.start()
  })

  after(async () => {
    await slot?.stop()
    await raw?.channel.deleteQueue(queue).catch(() => {})
    await cleanUp(ns, bus, raw)
  })

  it('opens a channel and runs its setup on it', () => {
    expect(slot.state).to.equal(SlotState.Open)
    expect(slot.channel).to.not.equal(undefined)
    expect(setups).to.equal(1)
  })

  it('replaces a channel that a channel error closed, running its setup again, with backoff while the setup fails', async () => {
    const first = slot.channel!
    await raw.channel.deleteQueue(queue)
    const lost = nextEvent<Channel>(slot, 'lost')
    // a channel-level error (404) closes this channel only; the connection stays up
    await first.checkQueue(`${ns}.no-such-queue`).catch(() => {})
    expect(await lost).to.equal(first)
    const reopened = nextEvent<Channel>(slot, 'open', { timeoutMs: 15_000 })
    const failedSetups = setups
    // while the queue is missing, every new channel's setup fails: the slot keeps trying
    await waitFor(() => setups >= failedSetups + 2, { what: 'the setup retried while it fails' })
    expect(slot.state).to.not.equal(SlotState.Open)
    await raw.channel.assertQueue(queue, { durable: false })
    const channel = await reopened
    expect(channel).to.not.equal(first)
    expect(slot.channel).to.equal(channel)
    expect(slot.state).to.equal(SlotState.Open)
    expect(bus.connection.isConnected, 'the connection itself stayed up').to.equal(true)
  })

  it('stops: hands back no channel and opens none again', async () => {
    await slot.stop()
    expect(slot.state).to.equal(SlotState.Idle)
    expect(slot.channel).to.equal(undefined)
  })
})
