import { expect } from 'chai'
import type { Knex } from 'knex'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { partitionSlot, slotHeader } from '../../shared/bus/partition.ts'
import { CLAIM_OPENED } from '../../shared/contracts/order.ts'
import { Management, nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { claimdeskSchema, claimEvent, effectsByKey, PURPOSE, SERVICE, startReplica, type Replica } from './partitioned-support.ts'
import { cleanUp, headerOf, RawBroker } from './support.ts'

describe('partitioned consumer: what reaches it from outside', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('partitioned-contract')
  const queue = names.queue(ns, SERVICE, PURPOSE)
  let database: { db: Knex; schema: string }
  let replica: Replica
  let raw: RawBroker

  before(async () => {
    database = await claimdeskSchema(ns)
    raw = await RawBroker.open()
    replica = await startReplica(ns, database, { partitions: { count: 3 } })
  })

  after(() => cleanUp(ns, replica, raw, { destroy: () => database.db.destroy() }))

  it('declares one single-active-consumer quorum queue per partition', async () => {
    // This namespace's queues only: the broker is shared with other deployments and test runs.
    const queues = await new Management().queues(ns)
    const partitionQueues = queues.filter((q) => q.name.startsWith(`${queue}.p`) && /\.p\d+$/.test(q.name)).map((q) => [q.name, q.arguments['x-queue-type'], q.arguments['x-single-active-consumer']])
    expect(partitionQueues.sort()).to.deep.equal([0, 1, 2].map((i) => [names.partitionQueue(queue, i), 'quorum', true]))
  })

  it('dead-letters an event whose payload breaks its contract, with the failing field, without running the handler', async () => {
    const { claimId: _dropped, ...withoutKey } = claimEvent('claim-bad', 0)
    await raw.publishEvent(ns, CLAIM_OPENED, JSON.stringify(withoutKey), { contentType: 'application/json', headers: { [slotHeader(7)]: true } })
    const [letter] = await raw.takeExactly(names.deadLetterQueue(queue), 1)
    expect(headerOf(letter!, Headers.errorKind)).to.equal('contract')
    expect(String(headerOf(letter!, Headers.error))).to.contain('claimId')
    expect(headerOf(letter!, Headers.attempts)).to.equal(0)
    // slot 7 of 3 partitions: partition 1, where a replay sends it back
    expect(headerOf(letter!, Headers.originalQueue)).to.equal(names.partitionQueue(queue, 1))
  })

  it('handles an event published without a partition header (from outside) instead of dropping it', async () => {
    await raw.publishEvent(ns, CLAIM_OPENED, JSON.stringify(claimEvent('claim-unheaded', 0)), { contentType: 'application/json' })
    await waitFor(async () => (await effectsByKey(database)).get('claim-unheaded')?.length === 1, { what: 'the unheaded event handled' })
  })

  it('routes an event the bus publishes to the partition of its key', async () => {
    const handled = nextEvent<Envelope>(replica.consumer, 'handled', { filter: (envelope) => (envelope.payload as { claimId?: string }).claimId === 'claim-routed' })
    const { routed } = await replica.bus.publisher.publish(CLAIM_OPENED, claimEvent('claim-routed', 0))
    expect(routed).to.equal(true)
    const envelope = await handled
    expect(envelope.headers[Headers.partition]).to.equal(partitionSlot('claim-routed'))
    expect(envelope.raw.fields.routingKey).to.equal(CLAIM_OPENED)
  })
})
