import { expect } from 'chai'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { ParkStore } from '../../shared/bus/park-store.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { claimdeskSchema, effectsByKey, publishInOrder, PURPOSE, SERVICE, startReplica, type Replica } from '../bus/partitioned-support.ts'
import { cleanUp, headerOf, RawBroker, startBus } from '../bus/support.ts'
import { runCli, runJson, type CliResult } from './cli.ts'

function expectOneLineFailure(result: CliResult, code: number, text: string): void {
  expect(result.code, result.stderr).to.equal(code)
  expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1)
  expect(result.stderr).to.match(/^bazaar: /).and.to.contain(text)
}

describe('bazaar keys: parked keys listed, retried and skipped by an operator', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('cli keys')
  const cli = { namespace: ns }
  const queue = names.queue(ns, SERVICE, PURPOSE)
  const consumer = `${SERVICE}.${PURPOSE}`
  const POISON = 'claim-stuck'
  let database: { db: Knex; schema: string }
  let replica: Replica
  let producer: Bus
  let raw: RawBroker
  let headRuns = 0

  before(async () => {
    database = await claimdeskSchema(ns)
    raw = await RawBroker.open()
    producer = await startBus(ns, 'claims-producer')
    // Parked after one run; its next retry is a minute away, so only the operator's retry brings it sooner.
    const partitions = { count: 2, parkAfterAttempts: 1, parkRetryDelaysMs: [60_000], parkPollMs: 100 }
    replica = await startReplica(ns, database, {
      partitions,
      beforeCommit: (key, seq) => {
        if (key !== POISON || seq !== 0) return
        headRuns++
        throw new Error('the claim\'s order is gone')
      }
    })
    await publishInOrder(producer, [POISON, 'claim-fine'], 3)
    await waitFor(async () => (await new ParkStore(database).list(queue))[0]?.messages === 3, { what: 'the stuck key parked with its 3 messages' })
  })

  after(() => cleanUp(ns, replica, producer, raw, { destroy: () => database.db.destroy() }))

  it('lists parked keys as a table and as JSON', async () => {
    // Three reads of the same state: side by side (each CLI start is about a second of CPU).
    const [listed, table, status] = await Promise.all([
      runJson<{ keys: Array<Record<string, unknown>> }>(['keys', 'list'], cli),
      runCli(['keys', 'list', '--service', SERVICE], cli),
      runJson<{ parked: unknown[] }>(['status'], cli)
    ])
    expect(listed.keys).to.have.length(1)
    expect(listed.keys[0]).to.deep.include({ service: SERVICE, consumer: queue, key: POISON, messages: 3, attempts: 0 })
    expect(listed.keys[0]!.lastError).to.contain('order is gone')
    expect(table.code, table.stderr).to.equal(0)
    expect(table.stdout).to.contain(POISON).and.to.contain('order is gone')
    expect(status.parked).to.deep.equal([{ service: SERVICE, keys: 1, messages: 3 }])
  })

  it('retries the head now on request', async () => {
    const before = headRuns
    const result = await runJson(['keys', 'retry', consumer, POISON], cli)
    expect(result).to.deep.equal({ consumer: queue, key: POISON, retryDue: true })
    await waitFor(() => headRuns > before, { what: 'the head retried' })
    await waitFor(async () => (await new ParkStore(database).list(queue))[0]?.attempts === 1, { what: 'the failed retry recorded' })
  })

  it('fails with one line for an unknown key or consumer, exit 2 for a malformed consumer', async () => {
    // None of these changes anything (each is refused): side by side.
    const [unknownKey, unknownService, malformed] = await Promise.all([
      runCli(['keys', 'retry', consumer, 'claim-unknown'], cli),
      runCli(['keys', 'skip', 'nobody.claims', POISON], cli),
      runCli(['keys', 'retry', 'claims', POISON], cli)
    ])
    expectOneLineFailure(unknownKey, 1, `no parked key "claim-unknown" for consumer ${queue}`)
    expectOneLineFailure(unknownService, 1, 'service nobody has no parked keys table')
    expectOneLineFailure(malformed, 2, 'consumer must be <service>.<purpose>')
  })

  it('skips the head to the dead-letter queue, then the key drains in order', async () => {
    const result = await runJson<Record<string, unknown>>(['keys', 'skip', `${ns}.${consumer}`, POISON], cli)
    expect(result).to.deep.include({ consumer: queue, key: POISON, deadLetterQueue: names.deadLetterQueue(queue), remaining: 2, unparked: false })
    const [letter] = await raw.takeExactly(names.deadLetterQueue(queue), 1)
    expect(letter!.properties.messageId).to.equal(result.skipped)
    expect(String(headerOf(letter!, Headers.error))).to.equal("skipped by operator after: the claim's order is gone")
    await waitFor(async () => (await effectsByKey(database)).get(POISON)?.length === 2, { what: 'the rest of the key handled' })
    expect((await effectsByKey(database)).get(POISON)).to.deep.equal([1, 2])
    await waitFor(async () => (await new ParkStore(database).list(queue)).length === 0, { what: 'the key unparked' })
  })

  it('explains itself with --help, and the topology shows the partitions', async () => {
    // and `bazaar topology show` shows a partitioned consumer's partition queues and exchanges (both only read: side by side)
    const [help, shown] = await Promise.all([
      runCli(['keys', '--help'], cli),
      runJson<{ queues: Array<{ name: string }>; exchanges: Array<{ name: string; type: string }> }>(
        ['--declarations', 'test/bus/partitioned-support.ts', 'topology', 'show'], cli
      )
    ])
    expect(help.code).to.equal(0)
    for (const command of ['list', 'retry', 'skip']) expect(help.stdout).to.match(new RegExp(`^  ${command}\\b`, 'm'))
    expect(help.stdout.replace(/\s+/g, ' ')).to.contain('skipped by operator')
    expect(shown.queues.map((q) => q.name)).to.include.members([names.partitionQueue(queue, 0), names.partitionQueue(queue, 1), names.deadLetterQueue(queue)])
    expect(shown.exchanges).to.deep.include({ name: names.partitionExchange(queue), type: 'headers', arguments: { 'alternate-exchange': names.unpartitionedExchange(queue) } })
  })
})
