import { expect } from 'chai'
import type { ConfirmChannel, GetMessage } from 'amqplib'
import type { Bus } from '../../shared/bus/bus.ts'
import { BusError, isBusError } from '../../shared/bus/errors.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { PRODUCT_CREATED } from '../../shared/contracts/product.ts'
import { USER_REGISTERED, type UserRegistered } from '../../shared/contracts/user.ts'
import { runWithContext } from '../../shared/log/context.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, RawBroker, registered, startBus } from './support.ts'

describe('publisher', () => {
  const ns = uniqueNamespace('publisher')
  let bus: Bus
  let raw: RawBroker
  /** a server-named exclusive queue that sees every user event */
  let tap: string

  before(async () => {
    raw = await RawBroker.open()
    bus = await startBus(ns, 'users')
    tap = (await raw.channel.assertQueue('', { exclusive: true })).queue
    await raw.channel.bindQueue(tap, names.eventsExchange(ns), 'user.#')
  })

  after(() => cleanUp(ns, bus, raw))

  const takeOne = async (): Promise<GetMessage> => (await raw.takeExactly(tap, 1))[0]!

  it('sends the properties and headers of the contract, ids taken from the work in progress', async () => {
    const user = registered()
    const before = Math.floor(Date.now() / 1000)
    const { messageId, routed } = await runWithContext(
      { requestId: 'req-123', correlationId: 'corr-456', messageId: 'cause-789' },
      () => bus.publisher.publish(USER_REGISTERED, user)
    )
    expect(routed).to.equal(true)
    const message = await takeOne()
    const p = message.properties
    expect(p.contentType).to.equal('application/json')
    expect(p.deliveryMode, 'persistent').to.equal(2)
    expect(p.messageId).to.equal(messageId).and.to.match(/^[0-9a-f-]{36}$/)
    expect(p.timestamp).to.be.within(before, Math.ceil(Date.now() / 1000))
    expect(p.type).to.equal(USER_REGISTERED)
    expect(p.appId).to.equal('users')
    expect(p.headers).to.include({
      [Headers.requestId]: 'req-123',
      [Headers.correlationId]: 'corr-456',
      [Headers.causationId]: 'cause-789',
      [Headers.namespace]: ns
    })
    expect(message.fields.routingKey).to.equal(USER_REGISTERED)
    expect(JSON.parse(message.content.toString())).to.deep.equal(user)
  })

  it('outside any work, starts a correlation at the message itself and names no cause', async () => {
    const { messageId } = await bus.publisher.publish(USER_REGISTERED, registered())
    const { headers } = (await takeOne()).properties
    expect(headers![Headers.correlationId]).to.equal(messageId)
    expect(headers).not.to.have.property(Headers.causationId)
    expect(headers).not.to.have.property(Headers.requestId)
  })

  it('refuses a payload that breaks its contract with CONTRACT_VIOLATION and sends nothing', async () => {
    const bad = { ...registered(), email: 'nope' } as UserRegistered
    const error = await bus.publisher.publish(USER_REGISTERED, bad).then(() => undefined, (err: unknown) => err)
    expect(isBusError(error, 'CONTRACT_VIOLATION'), String(error)).to.equal(true)
    expect((error as Error).message).to.include('/email')
    // the next message is the first and only one the queue gets
    const marker = registered()
    await bus.publisher.publish(USER_REGISTERED, marker)
    expect(JSON.parse((await takeOne()).content.toString())).to.deep.equal(marker)
    expect(await raw.drain(tap)).to.have.length(0)
  })

  it('reports a message no queue is bound for: routed false and a returned event', async () => {
    const returned = nextEvent<GetMessage>(bus.publisher, 'returned')
    const result = await bus.publisher.publish(PRODUCT_CREATED, {
      productId: 'p1', sellerId: 's1', parentId: null, title: 'Lamp', description: '', price: 100, currency: 'EUR', stock: 1,
      version: 1, updatedAt: new Date().toISOString()
    })
    expect(result.routed).to.equal(false)
    expect((await returned).properties.messageId).to.equal(result.messageId)
  })

  it('keeps publishing after a channel error closed its channel', async () => {
    const failed = await bus.publisher
      .publishRaw({ exchange: `${ns}.no-such-exchange`, routingKey: 'x', body: Buffer.from('{}'), properties: { messageId: 'lost' } })
      .then(() => undefined, (err: unknown) => err)
    expect(isBusError(failed, 'CHANNEL_CLOSED'), String(failed)).to.equal(true)
    expect((failed as Error).message).to.include('no-such-exchange')
    const marker = registered()
    await bus.publisher.publish(USER_REGISTERED, marker)
    expect(JSON.parse((await takeOne()).content.toString())).to.deep.equal(marker)
  })

  it('waits for the channel to drain before publishing more once the socket buffer is full', async () => {
    const channel = await waitFor(() => bus.publisher.channel, { what: 'a publisher channel' })
    const log: string[] = []
    const publish = channel.publish.bind(channel)
    channel.publish = ((...args: Parameters<ConfirmChannel['publish']>) => {
      const ok = publish(...args)
      log.push(ok ? 'sent' : 'full')
      return ok
    }) as ConfirmChannel['publish']
    const onDrain = () => log.push('drain')
    channel.on('drain', onDrain)
    try {
      // many at once: amqplib's per-channel buffer holds 1,024 frames
      const body = Buffer.alloc(512, 'x')
      const publishes = Array.from({ length: 3_000 }, (_, i) =>
        bus.publisher.publishRaw({ exchange: names.eventsExchange(ns), routingKey: 'bulk.load', body, properties: { messageId: `bulk-${i}` } })
      )
      await Promise.all(publishes)
    } finally {
      channel.publish = publish
      channel.off('drain', onDrain)
    }
    expect(log, 'the buffer filled up at least once').to.include('full')
    // after 'full', nothing more is handed to the channel until it has drained
    log.forEach((entry, i) => {
      if (entry === 'full' && i + 1 < log.length) expect(log[i + 1], `after 'full' at ${i}`).to.equal('drain')
    })
    expect(log.filter((entry) => entry !== 'drain')).to.have.length(3_000)
  })

  it('refuses to publish once closed, with SHUTTING_DOWN', async () => {
    const other = await startBus(ns, 'closing')
    await other.stop()
    const error = await other.publisher.publish(USER_REGISTERED, registered()).then(() => undefined, (err: unknown) => err)
    expect(isBusError(error, 'SHUTTING_DOWN'), String(error)).to.equal(true)
  })

  it('fails to start with one line naming the URL when the broker is unreachable', async () => {
    const url = 'amqp://guest:secret@127.0.0.1:1'
    const error = await startBus(ns, 'nowhere', { url, initialRetries: 1 }).then(() => undefined, (err: unknown) => err)
    expect(error).to.be.instanceOf(BusError)
    expect((error as BusError).code).to.equal('BROKER_UNREACHABLE')
    const message = (error as Error).message
    expect(message).to.include('127.0.0.1:1').and.not.to.include('secret')
    expect(message).to.include('ECONNREFUSED')
    expect(message.split('\n')).to.have.length(1)
  })
})
