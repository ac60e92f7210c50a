import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import { sendControl, type ControlOutcome } from '../../shared/bus/control.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { Management, nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, forceCloseConnection, headerOf, RawBroker, registered, startBus, updated } from './support.ts'

/** What a handler saw: which message (by the name in its payload), when, and whether it succeeded. */
interface Run { name: string; at: number; ok: boolean }

describe('blocking (ordered) retry', () => {
  const ns = uniqueNamespace('blocking')
  let producer: Bus
  let bus: Bus
  let ordered: Consumer
  let stuck: Consumer
  let raw: RawBroker
  const runs: Run[] = []
  const failuresLeft = new Map<string, number>()

  /** Fails while the message's name has failures left ('forever' never stops failing). */
  const handler = async ({ payload }: { payload: { name: string } }) => {
    const left = payload.name.startsWith('forever') ? Infinity : (failuresLeft.get(payload.name) ?? 0)
    const ok = left <= 0
    runs.push({ name: payload.name, at: Date.now(), ok })
    if (!ok) {
      failuresLeft.set(payload.name, left - 1)
      throw new Error(`${payload.name} failed`)
    }
  }
  const successes = () => runs.filter((r) => r.ok).map((r) => r.name)

  before(async () => {
    raw = await RawBroker.open()
    producer = await startBus(ns, 'users')
    bus = await startBus(ns, 'ledger')
    ordered = bus.consumer({
      service: 'ledger', purpose: 'ordered', bindings: [USER_REGISTERED],
      retry: { kind: 'blocking', maxAttempts: 3, initialDelayMs: 200, factor: 2 },
      handlers: { [USER_REGISTERED]: handler }
    })
    stuck = bus.consumer({
      service: 'ledger', purpose: 'stuck', bindings: [USER_UPDATED],
      // a backoff far longer than the test: only a skip can move it on
      retry: { kind: 'blocking', maxAttempts: 100, initialDelayMs: 60_000 },
      handlers: { [USER_UPDATED]: handler }
    })
    await bus.startConsumers()
  })

  after(() => cleanUp(ns, bus, producer, raw))

  it('holds the messages behind a failing one until it succeeds, then processes them in order', async () => {
    failuresLeft.set('a', 2)
    for (const name of ['a', 'b', 'c']) await producer.publisher.publish(USER_REGISTERED, registered({ name }))
    await waitFor(() => successes().includes('c'), { what: 'c to be processed' })
    const relevant = runs.filter((r) => ['a', 'b', 'c'].includes(r.name))
    expect(relevant.map((r) => `${r.name}:${r.ok}`)).to.deep.equal(['a:false', 'a:false', 'a:true', 'b:true', 'c:true'])
    // backoff in place: 200 ms, then 400 ms
    expect(relevant[1]!.at - relevant[0]!.at).to.be.at.least(200)
    expect(relevant[2]!.at - relevant[1]!.at).to.be.at.least(400)
  })

  it('holds them until the failing one is dead-lettered after its attempts, then goes on', async () => {
    for (const name of ['forever-d', 'e']) await producer.publisher.publish(USER_REGISTERED, registered({ name }))
    await waitFor(() => successes().includes('e'), { what: 'e to be processed' })
    const [letter] = await raw.takeExactly(names.deadLetterQueue(ordered.queue), 1)
    const dRuns = runs.filter((r) => r.name === 'forever-d')
    const eRun = runs.find((r) => r.name === 'e')!
    expect(dRuns).to.have.length(3)
    expect(eRun.at, 'e starts only after the last attempt of d').to.be.at.least(dRuns[2]!.at)
    expect(JSON.parse(letter!.content.toString()).name).to.equal('forever-d')
    expect(headerOf(letter!, Headers.errorKind)).to.equal('handler')
    expect(headerOf(letter!, Headers.attempts)).to.equal(3)
  })

  it("declares a blocking consumer's queue single-active-consumer, so order holds across replicas", async () => {
    const queues = await new Management().queues(ns)
    expect(queues.find((q) => q.name === ordered.queue)!.arguments).to.include({ 'x-single-active-consumer': true })
  })

  it("an operator's skip dead-letters the stuck message (kind skipped) and the next one flows", async () => {
    await producer.publisher.publish(USER_UPDATED, updated({ name: 'forever-stuck' }))
    await producer.publisher.publish(USER_UPDATED, updated({ name: 'after-stuck' }))
    await waitFor(() => stuck.isRetrying, { what: 'the consumer to be stuck retrying' })
    expect(successes()).not.to.include('after-stuck')

    const heard = nextEvent<ControlOutcome>(bus.controlListener!, 'command')
    await sendControl(raw.channel, ns, { command: 'skip', queue: stuck.queue })
    expect(await heard).to.deep.equal({ command: 'skip', queue: stuck.queue, applied: true })

    await waitFor(() => successes().includes('after-stuck'), { what: 'the message behind the skipped one' })
    const [letter] = await raw.takeExactly(names.deadLetterQueue(stuck.queue), 1)
    expect(JSON.parse(letter!.content.toString()).name).to.equal('forever-stuck')
    expect(headerOf(letter!, Headers.errorKind)).to.equal('skipped')
    expect(headerOf(letter!, Headers.attempts)).to.equal(1)
    expect(String(headerOf(letter!, Headers.error))).to.include('forever-stuck failed')
  })

  it('a skip for a queue with nothing stuck changes nothing', async () => {
    const heard = nextEvent<ControlOutcome>(bus.controlListener!, 'command')
    await sendControl(raw.channel, ns, { command: 'skip', queue: stuck.queue })
    expect(await heard).to.deep.equal({ command: 'skip', queue: stuck.queue, applied: false })
    await producer.publisher.publish(USER_UPDATED, updated({ name: 'later' }))
    await waitFor(() => successes().includes('later'), { what: 'a later message' })
    expect(await raw.drain(names.deadLetterQueue(stuck.queue))).to.have.length(0)
  })

  it('listens for commands on a server-named exclusive queue that is declared again after a reconnect', async () => {
    const reconnected = nextEvent(bus.connection, 'connect', { timeoutMs: 15_000 })
    await forceCloseConnection(`${ns}.ledger`)
    await reconnected
    await producer.publisher.publish(USER_UPDATED, updated({ name: 'forever-again' }))
    await waitFor(() => stuck.isRetrying, { what: 'the consumer to be stuck again' })
    const heard = nextEvent<ControlOutcome>(bus.controlListener!, 'command')
    await sendControl(raw.channel, ns, { command: 'skip', queue: stuck.queue })
    expect((await heard).applied).to.equal(true)
    await raw.takeExactly(names.deadLetterQueue(stuck.queue), 1)
  })
})
