import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import type { BazaarEnv } from '../../shared/config/env.ts'
import { FLAG_CHANGED } from '../../shared/contracts/reference.ts'
import { referenceFeed } from '../../shared/kv/reference.ts'
import { ReplicaFixture, type ReferenceReplica } from './support.ts'
import { KvSnapshotter } from '../../shared/kv/snapshots.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { testEnv } from '../../shared/testing/env.ts'

const ns = uniqueNamespace('kv-retention')

/**
 * A data stream small enough for retention to bite within a test: 30 kB in
 * 5 kB segments (the broker removes whole segments). Production keeps 7 days
 * or 1 GB (KV_STREAM_MAX_AGE, KV_STREAM_MAX_BYTES).
 */
const kvStream = { maxAgeMs: 86_400_000, maxLengthBytes: 30_000, maxSegmentSizeBytes: 5_000 } as BazaarEnv['kvStream']
const env = { ...testEnv(ns), kvStream }

describe('kv replicas: retention passing a replica by', function () {
  this.timeout(30_000)
  const fixture = new ReplicaFixture(ns, env)
  let writer: Bus
  let owner: ReferenceReplica
  let snapshotter: KvSnapshotter<typeof referenceFeed.stores>

  /** The offset the stream now begins at: the first message a consumer from 'first' is given. */
  async function firstOffset(stream: string): Promise<number> {
    const channel = await (await writer.connection.channelModel()).createChannel()
    try {
      await channel.prefetch(1)
      return await new Promise<number>((resolve, reject) => {
        channel
          .consume(stream, (message) => {
            if (message) resolve(Number(message.properties.headers?.['x-stream-offset']))
          }, { noAck: false, arguments: { 'x-stream-offset': 'first' } })
          .catch(reject)
      })
    } finally {
      await channel.close()
    }
  }

  before(async () => {
    writer = (await fixture.open()).writer
    owner = (await fixture.replica('owner', { owner: true })).replica
    // snapshots only when asked: the test decides when the newest one falls out of retention
    snapshotter = new KvSnapshotter(owner, writer.publisher, { minChanges: 1_000_000, intervalMs: 3_600_000 })
    await owner.whenReady(10_000)
  })

  after(async () => {
    await snapshotter?.stop()
    await fixture.close()
  })

  it('a replica whose snapshot offset retention has removed bootstraps again from a newer snapshot and converges', async () => {
    const publish = (i: number) => writer.publisher.publish(FLAG_CHANGED, { key: `f-${i % 20}`, version: Math.floor(i / 20) + 1, value: { name: `f-${i % 20}`, enabled: i % 2 === 0 }, changedAt: new Date().toISOString() })
    for (let i = 0; i < 100; i++) await publish(i)
    await owner.caughtUp()
    const old = await snapshotter.take('test: the snapshot retention will pass by')
    expect(old?.asOf).to.be.a('number')
    // Far more than the stream keeps: the old snapshot's offset and its parts go. In batches the owner keeps
    // up with, as a live owner does: it must not be passed by retention itself (it would then hold only
    // what was left, and so would the snapshot the late replica bootstraps from).
    for (let start = 100; start < 1_600; start += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => publish(start + i)))
      await owner.caughtUp()
    }
    // retention runs in the background when a segment rolls over; the broker's message count lags, so the stream's first offset is read
    await waitFor(async () => (await firstOffset(owner.streams.data.name)) > old!.asOf! + 1, { timeoutMs: 10_000, intervalMs: 200, what: "retention to remove the old snapshot's offset" })

    const { replica: late } = await fixture.replica('late', { start: false })
    const reasons: string[] = []
    let readyEarly = false
    late.on('bootstrapping', (reason) => reasons.push(reason))
    late.on('ready', () => void (readyEarly ||= reasons.length < 2))
    await late.start()
    // it starts from the newest snapshot there is, the old one, and finds its offset gone
    await waitFor(() => reasons.length >= 1, { timeoutMs: 10_000, what: 'the first bootstrap' })
    // the owner's next snapshot (its schedule, here called by hand) is what it waits for
    await snapshotter.take('test: a snapshot after retention')
    await late.whenReady(10_000)
    await late.caughtUp()
    expect(reasons).to.deep.equal(['start', 'retention passed this replica by'])
    expect(readyEarly, 'never ready from the old snapshot with a gap after it').to.equal(false)
    expect(late.stores.flags.size).to.equal(20)
    expect(JSON.stringify(late.contents().entries.sort())).to.equal(JSON.stringify(owner.contents().entries.sort()))
    expect(late.stores.flags.version('f-19')).to.equal(80)
  })
})
