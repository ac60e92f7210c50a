import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import { FLAG_CHANGED, type Flag } from '../../shared/contracts/reference.ts'
import { referenceFeed } from '../../shared/kv/reference.ts'
import { KvSnapshotter } from '../../shared/kv/snapshots.ts'
import { testEnv, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { forceCloseConnection } from '../bus/support.ts'
import { ReplicaFixture, type ReferenceReplica } from './support.ts'

const ns = uniqueNamespace('kv-replica')
const env = testEnv(ns)

/**
 * Replicas of a feed, fed by the broker alone: changes are published here the
 * way the owner's outbox relay publishes them, and one replica plays the
 * owner, writing snapshots.
 */
describe('kv replicas: bootstrap, catch-up and last value wins', function () {
  this.timeout(60_000)
  const fixture = new ReplicaFixture(ns, env)
  const replica = (name: string, options: { owner?: boolean } = {}) => fixture.replica(name, options)
  let writer: Bus
  let owner: ReferenceReplica
  let snapshotter: KvSnapshotter<typeof referenceFeed.stores>
  let live: ReferenceReplica

  const change = (key: string, version: number, value: Flag | null) =>
    writer.publisher.publish(FLAG_CHANGED, { key, version, value, changedAt: new Date().toISOString() })

  /** `count` updates over `keys` keys, each key's versions in order, published 500 at a time. */
  async function updates(from: number, count: number, keys = 200) {
    for (let start = from; start < from + count; start += 500) {
      const batch: Array<Promise<unknown>> = []
      for (let i = start; i < Math.min(start + 500, from + count); i++) {
        const key = `f-${i % keys}`
        const version = Math.floor(i / keys) + 1
        batch.push(change(key, version, i % 7 === 0 ? null : { name: key, enabled: i % 2 === 0 }))
      }
      await Promise.all(batch)
    }
  }

  const versions = (r: ReferenceReplica) => JSON.stringify(r.contents().entries.sort())

  before(async () => {
    writer = (await fixture.open()).writer
    owner = (await replica('owner', { owner: true })).replica
    snapshotter = new KvSnapshotter(owner, writer.publisher, { minChanges: 500, intervalMs: 60_000 })
    snapshotter.start()
    await owner.whenReady(10_000)
    live = (await replica('live')).replica
    await live.whenReady(10_000)
  })

  after(async () => {
    await snapshotter?.stop()
    await fixture.close()
  })

  it('a replica started after 10,000 updates holds the same values and versions as one that saw them live, reading its snapshot and a short tail', async () => {
    await updates(0, 10_000)
    await live.caughtUp()
    await owner.caughtUp()
    await waitFor(() => snapshotter.changesSinceSnapshot() < 1000 && owner.newestSnapshot, { timeoutMs: 10_000, what: 'a recent snapshot' })
    const late = await replica('late')
    let applied = 0
    late.replica.on('applied', () => applied++)
    await late.replica.whenReady(10_000)
    expect(versions(late.replica)).to.equal(versions(live))
    expect(late.replica.stores.flags.version('f-3')).to.equal(50)
    expect(applied, 'messages read to bootstrap').to.be.below(1500)
  })

  it('an out-of-order or duplicated update cannot roll a value back, nor bring a deleted key back', async () => {
    await change('late-key', 5, { name: 'late-key', enabled: true })
    await change('late-key', 3, { name: 'late-key', enabled: false })
    await change('late-key', 5, { name: 'late-key', enabled: true })
    await live.caughtUp()
    expect(live.stores.flags.get('late-key')).to.deep.equal({ name: 'late-key', enabled: true })
    expect(live.stores.flags.version('late-key')).to.equal(5)
    await change('late-key', 6, null)
    await change('late-key', 4, { name: 'late-key', enabled: true })
    await live.caughtUp()
    expect(live.stores.flags.has('late-key')).to.equal(false)
    expect(live.stores.flags.version('late-key')).to.equal(6)
  })

  it('read-your-writes: get with atLeastVersion waits for that version to arrive', async () => {
    const pending = live.stores.flags.get('ryw', { atLeastVersion: 2, timeoutMs: 5_000 })
    await change('ryw', 1, { name: 'ryw', enabled: false })
    await change('ryw', 2, { name: 'ryw', enabled: true })
    expect(await pending).to.deep.equal({ name: 'ryw', enabled: true })
  })

  it('a replica stopped mid-stream and started again converges', async () => {
    const first = await replica('restarted')
    await first.replica.whenReady(10_000)
    const writing = updates(10_000, 4_000)
    await waitFor(() => (first.replica.position ?? 0) > (live.position ?? 0) - 3000 && first.replica.stores.flags.version('f-0') > 50, { timeoutMs: 20_000, what: 'the replica reading new updates' })
    await first.replica.stop()
    const again = await replica('restarted')
    await writing
    await again.replica.whenReady(20_000)
    await again.replica.caughtUp()
    await live.caughtUp()
    expect(versions(again.replica)).to.equal(versions(live))
  })

  it('a replica whose broker connection is closed mid-stream resumes where it was and converges', async () => {
    const dropped = await replica('dropped')
    await dropped.replica.whenReady(10_000)
    const writing = updates(14_000, 4_000)
    await waitFor(() => dropped.replica.stores.flags.version('f-0') > 71, { timeoutMs: 20_000, what: 'the replica reading new updates' })
    await forceCloseConnection(`${ns}.${dropped.bus.options.service}`)
    await writing
    await waitFor(() => dropped.bus.connection.isConnected, { timeoutMs: 20_000, what: 'reconnected' })
    await dropped.replica.caughtUp()
    await live.caughtUp()
    expect(versions(dropped.replica)).to.equal(versions(live))
    expect(dropped.replica.stores.flags.version('f-199')).to.equal(90)
  })
})
