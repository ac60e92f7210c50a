import { expect } from 'chai'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { claimdeskSchema, effectCount, effectsByKey, publishInOrder, range, SERVICE, startReplica, type Replica } from './partitioned-support.ts'
import { cleanUp, forceCloseConnection, startBus } from './support.ts'

describe('partitioned consumer: restarts and redeliveries keep each key in order', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('partitioned-recovery')
  const KEYS = 30
  const PER_KEY = 40
  const TOTAL = KEYS * PER_KEY
  const keys = range(KEYS).map((i) => `claim-${i}`)
  const partitions = { count: 4, inPlaceDelaysMs: [5], parkRetryDelaysMs: [100], parkPollMs: 100 }
  let database: { db: Knex; schema: string }
  let producer: Bus
  const replicas: Replica[] = []

  // A little work per message, so that some are always in flight when a replica stops or its connection drops.
  const beforeCommit = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 3))

  before(async () => {
    database = await claimdeskSchema(ns)
    producer = await startBus(ns, 'claims-producer')
    replicas.push(await startReplica(ns, database, { partitions, prefetch: 20, beforeCommit }))
    replicas.push(await startReplica(ns, database, { partitions, prefetch: 20, beforeCommit }))
  })

  after(() => cleanUp(ns, ...replicas, producer, { destroy: () => database.db.destroy() }))

  it('hands a stopped replica\'s partitions to the standby, and survives a dropped connection, without reordering or doubling a key', async () => {
    const publishing = publishInOrder(producer, keys, PER_KEY)
    // The first replica holds every partition (it subscribed first): stop it mid-run, the standby takes over.
    await waitFor(async () => (await effectCount(database)) >= TOTAL / 4, { timeoutMs: 30_000, intervalMs: 20, what: 'a quarter handled' })
    await replicas[0]!.bus.stop()
    replicas.push(await startReplica(ns, database, { partitions, prefetch: 20, beforeCommit }))
    // Then the broker drops every connection of the service: unacked deliveries come again, on new channels.
    await waitFor(async () => (await effectCount(database)) >= TOTAL / 2, { timeoutMs: 30_000, intervalMs: 20, what: 'half handled' })
    await forceCloseConnection(`${ns}.${SERVICE}`)
    await publishing
    await waitFor(async () => (await effectCount(database)) >= TOTAL, { timeoutMs: 40_000, intervalMs: 100, what: `${TOTAL} effects` })
    const effects = await effectsByKey(database)
    for (const key of keys) expect(effects.get(key), `effects of ${key}`).to.deep.equal(range(PER_KEY))
    expect(await effectCount(database)).to.equal(TOTAL)
  })
})
