import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Bus } from '../../shared/bus/bus.ts'
import { FLAG_CHANGED } from '../../shared/contracts/reference.ts'
import { KvSnapshotter } from '../../shared/kv/snapshots.ts'
import { testEnv, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { restartBrokerApp } from '../../chaos/faults.ts'
import { ReplicaFixture, type ReferenceReplica } from './support.ts'

const ns = uniqueNamespace('kv-broker-restart')
const env = testEnv(ns)
const run = promisify(execFile)

/**
 * The machine's broker restarted (`rabbitmqctl stop_app`, `start_app`) while a replica is still reading
 * the stream: once the broker is back the replica resumes at its offset and ends with exactly the
 * owner's values and versions, nothing missed, nothing rolled back. The stream is durable, so it
 * survives the restart; updates published after it arrive live.
 */
describe('kv replicas across a broker restart', function () {
  this.timeout(180_000)
  const fixture = new ReplicaFixture(ns, env)
  let writer: Bus
  let owner: ReferenceReplica

  before(async function () {
    // rabbitmqctl runs on the broker's machine; with a remote broker this cannot be done from here.
    const local = await run('rabbitmqctl', ['-q', 'status'], { timeout: 30_000 }).then(() => true, () => false)
    if (!local) this.skip()
    writer = (await fixture.open()).writer
    owner = (await fixture.replica('owner', { owner: true })).replica
    await owner.whenReady(10_000)
  })

  after(() => fixture.close())

  /** Publishes `count` updates over 100 keys with rising versions, as the owner's relay would. */
  async function updates(from: number, count: number) {
    for (let start = from; start < from + count; start += 500) {
      const batch: Array<Promise<unknown>> = []
      for (let i = start; i < Math.min(start + 500, from + count); i++) {
        const key = `f-${i % 100}`
        batch.push(writer.publisher.publish(FLAG_CHANGED, { key, version: Math.floor(i / 100) + 1, value: { name: key, enabled: i % 3 === 0 }, changedAt: new Date().toISOString() }))
      }
      await Promise.all(batch)
    }
  }

  const contents = (r: ReferenceReplica) => JSON.stringify(r.contents().entries.sort())

  it('a replica reading the stream when the broker restarts resumes and converges to the owner, versions included', async () => {
    // One early snapshot (a replica bootstraps from the owner's newest), then 20,000 updates after it: the
    // new replica reads them all as its tail, and the restart comes while it does.
    const snapshotter = new KvSnapshotter(owner, writer.publisher, { minChanges: 1, intervalMs: 60_000 })
    snapshotter.start()
    await updates(0, 100)
    await waitFor(() => owner.newestSnapshot, { timeoutMs: 10_000, what: "the owner's first snapshot" })
    await snapshotter.stop()
    await updates(100, 19_900)
    await owner.caughtUp()
    const { replica } = await fixture.replica('reader', { start: false })
    let applied = 0
    replica.on('applied', () => applied++)
    const started = replica.start()
    await waitFor(() => applied > 0, { timeoutMs: 20_000, what: 'the replica to be reading the stream' })
    const appliedAtRestart = applied
    await restartBrokerApp(1_000)
    await started
    await updates(20_000, 1_000)
    await waitFor(async () => {
      await Promise.all([owner.caughtUp(), replica.caughtUp()])
      return contents(replica) === contents(owner)
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'the replica to converge with the owner after the restart' })
    expect(appliedAtRestart, 'messages the replica had read when the broker went down').to.be.below(19_900)
    expect(replica.stores.flags.version('f-7')).to.equal(210)
    expect(contents(replica)).to.equal(contents(owner))
  })
})
