import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import type { StreamMessage, StreamReader } from '../../shared/bus/stream-reader.ts'
import { streamQueue } from '../../shared/bus/topology.ts'
import { Management, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { env, forceCloseConnection, RawBroker } from '../bus/support.ts'

const ns = uniqueNamespace('stream-reader')

describe('stream reader', function () {
  this.timeout(30_000)
  let raw: RawBroker
  const buses: Bus[] = []

  before(async () => {
    raw = await RawBroker.open()
  })

  after(async () => {
    for (const bus of buses) await bus.stop()
    await raw.close()
    await new Management().deleteNamespace(ns)
  })

  async function reader(name: string, stream = streamQueue(names.queue(ns, 'test', name), 'test'), from: Parameters<Bus['stream']>[0]['from'] = 'first') {
    const bus = new Bus({ url: env.amqpUrl, namespace: ns, service: `reader-${name}-${buses.length}` })
    buses.push(bus)
    await bus.start()
    const seen: StreamMessage[] = []
    const stream$ = bus.stream({ label: name, stream, from, prefetch: 50, handle: (m) => void seen.push(m) })
    await stream$.start()
    return { bus, seen, reader: stream$ as StreamReader }
  }

  async function write(queue: string, from: number, count: number, size = 10) {
    for (let i = from; i < from + count; i++) raw.channel.sendToQueue(queue, Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(size) })))
    await (raw.channel as any).waitForConfirms()
  }
  const values = (seen: StreamMessage[]) => seen.map((m) => JSON.parse(m.content.toString()).i as number)

  it('hands over every message from the first, in offset order, and says when it has caught up', async () => {
    const { seen, reader: r } = await reader('order')
    await write(r.stream, 0, 300)
    await r.caughtUp({ timeoutMs: 10_000 })
    expect(values(seen)).to.deep.equal([...Array(300).keys()])
    expect(seen.map((m) => m.offset)).to.deep.equal([...Array(300).keys()])
    expect(r.position).to.be.greaterThan(seen[299].offset) // the probe came after them
  })

  it('starting at an offset or at next skips what lies before it', async () => {
    const stream = streamQueue(names.queue(ns, 'test', 'order'), 'test')
    const atOffset = await reader('order', stream, { offset: 120 })
    await atOffset.reader.caughtUp({ timeoutMs: 10_000 })
    expect(values(atOffset.seen)[0]).to.equal(120)
    expect(atOffset.seen).to.have.length(180)
    const atNext = await reader('order', stream, 'next')
    await write(stream.name, 1000, 3)
    await atNext.reader.caughtUp({ timeoutMs: 10_000 })
    expect(values(atNext.seen)).to.deep.equal([1000, 1001, 1002])
  })

  it('resumes right after the last handled message when its broker connection is closed mid-stream: no gap, no double', async () => {
    const { bus, seen, reader: r } = await reader('resume')
    const writing = write(r.stream, 0, 2000)
    await waitFor(() => seen.length > 200, { timeoutMs: 10_000, what: 'reading under way' })
    await forceCloseConnection(`${ns}.${bus.options.service}`)
    await writing
    await waitFor(() => r.state === 'consuming' && seen.length >= 2000, { timeoutMs: 20_000, what: 'all 2000 read after the reconnect' })
    await r.caughtUp({ timeoutMs: 10_000 })
    expect(values(seen)).to.deep.equal([...Array(2000).keys()])
  })

  it('resuming after a message it has read does not report a gap while that message is retained', async () => {
    const stream = streamQueue(names.queue(ns, 'test', 'resume'), 'test')
    const all = await reader('resume-all', stream, 'first')
    await all.reader.caughtUp({ timeoutMs: 10_000 })
    const later = await reader('resume-after', stream, { after: all.seen[1499].offset })
    const gaps: unknown[] = []
    later.reader.on('gap', (...args) => gaps.push(args))
    await later.reader.caughtUp({ timeoutMs: 10_000 })
    expect(gaps).to.deep.equal([])
    expect(values(later.seen)).to.deep.equal([...Array(500).keys()].map((i) => i + 1500))
  })

  it('a reader stopped while a caughtUp() waits rejects it at once rather than at its timeout', async () => {
    const bus = new Bus({ url: env.amqpUrl, namespace: ns, service: `reader-stopped-${buses.length}` })
    buses.push(bus)
    await bus.start()
    // not started: no channel, so the probe cannot have come back before the stop
    const r = bus.stream({ label: 'stopped', stream: streamQueue(names.queue(ns, 'test', 'stopped'), 'test'), from: 'first', handle: () => {} })
    const started = Date.now()
    const pending = r.caughtUp({ timeoutMs: 60_000 }).then(() => 'caught up', (err: Error) => err.message)
    await r.stop()
    expect(await pending).to.match(/stopped before it caught up/)
    expect(Date.now() - started).to.be.below(5_000)
  })

  it('reports a gap when retention has removed the offset it asks for', async () => {
    const stream = streamQueue(names.queue(ns, 'test', 'short'), 'test', { maxLengthBytes: 20_000, maxSegmentSizeBytes: 5_000 })
    const first = await reader('short', stream, 'first')
    await write(stream.name, 0, 400, 200)
    await first.reader.caughtUp({ timeoutMs: 10_000 })
    // retention runs when a segment rolls over, in the background: wait until the broker counts fewer messages
    await waitFor(async () => ((await new Management().queue(stream.name))?.messages ?? 401) < 300, { timeoutMs: 10_000, intervalMs: 200, what: 'retention to remove old segments' })
    const late = await reader('short', stream, { after: first.seen[0].offset })
    const gaps: Array<[number, number]> = []
    late.reader.on('gap', (expected, got) => gaps.push([expected, got]))
    await late.reader.caughtUp({ timeoutMs: 10_000 })
    expect(gaps).to.have.length(1)
    expect(gaps[0][0]).to.equal(first.seen[0].offset)
    expect(gaps[0][1]).to.be.greaterThan(first.seen[0].offset)
    // what is still retained is read from where the stream now begins, nothing earlier
    expect(late.seen.every((m) => m.offset >= gaps[0][1])).to.equal(true)
  })
})
