/**
 * `npm run bench -- kv`: the in-memory KV stores of shared/kv (docs/kv-stores.md).
 *
 * 1. Read: a replica's `get` against the same lookup by primary key in PostgreSQL.
 * 2. Propagation: the reference service takes admin PUTs sent open loop
 *    (KV_BENCH_RATE, default 1,000/s, for KV_BENCH_SECONDS, default 5 s)
 *    over 16 keep-alive connections; time from the change's commit (its
 *    `changedAt`, written in the transaction) to applied in each of 3
 *    replicas, the rate the service committed at, failures and CPU. Then the
 *    same at KV_BENCH_SUSTAINED_RATE (default 100/s), below saturation.
 * 3. Bootstrap: KV_BENCH_KEYS keys (default 100,000) updated
 *    KV_BENCH_UPDATES times in all (default 1,000,000) straight into the
 *    stream; an owner replica snapshots as it goes; then a new replica's time
 *    to ready, against reading the whole history from the first offset.
 */
import amqp from 'amqplib'
import { Bus } from '../shared/bus/bus.ts'
import { names } from '../shared/bus/names.ts'
import { StreamReader } from '../shared/bus/stream-reader.ts'
import { FLAG_CHANGED } from '../shared/contracts/reference.ts'
import { referenceFeed } from '../shared/kv/reference.ts'
import { KvReplica } from '../shared/kv/replica.ts'
import { KvSnapshotter } from '../shared/kv/snapshots.ts'
import { KvStore } from '../shared/kv/store.ts'
import { createKnex, schemaName } from '../shared/db/database.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, waitFor } from '../shared/testing/index.ts'
import { createApp as createReference } from '../services/reference/app.ts'
import { intFromEnv } from './lib/env.ts'
import { HttpPool } from './lib/http-pool.ts'
import { openLoop } from './lib/open-loop.ts'
import { now, percentile } from './lib/stats.ts'

type Replica = KvReplica<typeof referenceFeed.stores>

const round = (n: number, digits = 1) => Number(n.toFixed(digits))

export async function runKvBenchmark(): Promise<object> {
  const ns = `bench_kv_${Date.now().toString(36)}`
  const env = testEnv(ns)
  const buses: Bus[] = []
  const replicas: Replica[] = []
  const newBus = async (service: string) => {
    const bus = new Bus({ url: env.amqpUrl, namespace: ns, service })
    buses.push(bus)
    await bus.start()
    return bus
  }
  const newReplica = async (service: string, owner = false) => {
    const replica = new KvReplica({ feed: referenceFeed, bus: await newBus(service), env, owner, catchUpTimeoutMs: 300_000 })
    replicas.push(replica)
    await replica.start()
    return replica
  }
  const reference = await startApp(createReference(env))
  try {
    const three = [await newReplica('r1'), await newReplica('r2'), await newReplica('r3')]
    const seconds = intFromEnv('KV_BENCH_SECONDS', 5)
    const propagation = await measurePropagation(reference.url, three, intFromEnv('KV_BENCH_RATE', 1_000), seconds)
    // and below the rate the service sustains here: the path's own latency, without a saturated service beside it
    const sustained = await measurePropagation(reference.url, three, intFromEnv('KV_BENCH_SUSTAINED_RATE', 100), seconds)
    const read = await measureRead(replicas[0]!, reference.app.get('db'), schemaName(ns, 'reference'))
    for (const replica of replicas.splice(0)) await replica.stop()
    await reference.stop()
    const bootstrap = await measureBootstrap(ns, env, newReplica, newBus)
    const result = { read, propagation, sustained, bootstrap }
    printTable(result)
    return result
  } finally {
    for (const replica of replicas) await replica.stop().catch(() => {})
    for (const bus of buses) await bus.stop().catch(() => {})
    await reference.stop().catch(() => {})
    await new Management().deleteNamespace(ns).catch(() => {})
    await dropNamespaceSchemas(ns).catch(() => {})
  }
}

/**
 * Admin PUTs sent open-loop at `rate` (bench/lib/open-loop.ts) over a bounded
 * keep-alive pool; each replica notes when it applied each version. The
 * delay is from the commit, so requests waiting for a connection while the
 * service is behind do not count in it; the rate the service committed at is
 * reported beside the one offered.
 */
async function measurePropagation(url: string, replicas: Replica[], rate: number, seconds: number) {
  const total = Math.round(rate * seconds)
  const keys = 500
  await Promise.all(replicas.map((r) => r.whenReady(30_000)))
  const admin = identity('admin')
  const delays: number[] = []
  let firstCommit = Infinity
  let lastCommit = -Infinity
  // from the commit: `changedAt` is written in the transaction, milliseconds before its COMMIT
  const onChanged = (_store: string, key: string, _version: number, changedAt: string) => {
    if (!key.startsWith('bench-')) return
    const at = Date.parse(changedAt)
    firstCommit = Math.min(firstCommit, at)
    lastCommit = Math.max(lastCommit, at)
    delays.push(Date.now() - at)
  }
  for (const replica of replicas) replica.on('changed', onChanged)
  const pool = new HttpPool(url, 16)
  try {
    const requests = await openLoop({ total, ratePerSec: rate }, (seq) => pool.send('PUT', `/flags/bench-${seq % keys}`, { token: admin.token, body: { enabled: seq % 2 === 0 } }))
    // every version in every replica: the stream's end when asked may be ahead of what the relay has published yet
    const expected = total * replicas.length
    await waitFor(() => delays.length >= expected, { timeoutMs: 60_000, what: `${expected} applied updates` }).catch(() => {})
    const committedPerSec = round(total / Math.max(0.001, (lastCommit - firstCommit) / 1000))
    return summarise(delays, { updates: total, offeredPerSec: rate, committedPerSec, replicas: replicas.length, notApplied: expected - delays.length, failed: requests.errors, lastError: requests.lastError, request: requests })
  } finally {
    pool.close()
    for (const replica of replicas) replica.off('changed', onChanged)
  }
}

function summarise(delays: number[], extra: object) {
  const sorted = Float64Array.from(delays).sort()
  return { ...extra, samples: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted[sorted.length - 1] ?? NaN) }
}

/** The same lookup, from memory and by primary key in PostgreSQL. */
async function measureRead(replica: Replica, db: ReturnType<typeof createKnex>, schema: string) {
  const keys = replica.stores.flags.all().map((f) => f.name)
  const memoryRounds = 1_000_000
  let hits = 0
  let start = now()
  for (let i = 0; i < memoryRounds; i++) if (replica.stores.flags.get(keys[i % keys.length]!)) hits++
  const memoryNs = ((now() - start) * 1e6) / memoryRounds
  const dbRounds = 5_000
  start = now()
  for (let i = 0; i < dbRounds; i++) {
    const row = await db.withSchema(schema).table('entries').where({ store: 'flags', key: keys[i % keys.length] }).first('value', 'version')
    if (row) hits++
  }
  const dbNs = ((now() - start) * 1e6) / dbRounds
  return { memoryGetNs: round(memoryNs, 0), postgresByKeyUs: round(dbNs / 1000), ratio: Math.round(dbNs / memoryNs), hits }
}

/** Updates written straight into the stream (as the relay would), snapshots by an owner replica, then a new replica's bootstrap. */
async function measureBootstrap(ns: string, env: ReturnType<typeof testEnv>, newReplica: (s: string, owner?: boolean) => Promise<Replica>, newBus: (s: string) => Promise<Bus>) {
  const keys = intFromEnv('KV_BENCH_KEYS', 100_000)
  const updates = intFromEnv('KV_BENCH_UPDATES', 1_000_000)
  const owner = await newReplica('owner', true)
  await owner.whenReady(30_000)
  const writer = await newBus('writer')
  const snapshotter = new KvSnapshotter(owner, writer.publisher, { minChanges: 1_000, intervalMs: 3_600_000 })
  snapshotter.start()
  const connection = await amqp.connect(env.amqpUrl)
  const channel = await connection.createConfirmChannel()
  const exchange = names.eventsExchange(ns)
  let start = now()
  const changedAt = new Date().toISOString()
  for (let i = 0; i < updates; i++) {
    const key = `k-${i % keys}`
    const body = { key, version: Math.floor(i / keys) + 1, value: { name: key, enabled: i % 2 === 0 }, changedAt }
    channel.publish(exchange, FLAG_CHANGED, Buffer.from(JSON.stringify(body)), { contentType: 'application/json', type: FLAG_CHANGED })
    if (i % 5_000 === 4_999) await channel.waitForConfirms()
  }
  await channel.waitForConfirms()
  await connection.close()
  const writeSeconds = (now() - start) / 1000
  await owner.caughtUp(600_000)
  // the snapshot the owner's own schedule calls for (no extra one for the benchmark): at most max(1,000, keys held) behind
  const held = () => Object.values(owner.stores).reduce((sum, store) => sum + store.size, 0)
  await waitFor(() => snapshotter.changesSinceSnapshot() <= Math.max(1_000, held()) && owner.newestSnapshot, { timeoutMs: 120_000, what: 'a recent snapshot' })
  await snapshotter.stop()
  const pointer = owner.newestSnapshot!

  start = now()
  let applied = 0
  const late = await newReplica('late')
  late.on('applied', () => applied++)
  await late.whenReady(600_000)
  const bootstrapMs = now() - start
  const same = late.stores.flags.size === owner.stores.flags.size && late.stores.flags.version(`k-${keys - 1}`) === owner.stores.flags.version(`k-${keys - 1}`)

  // the whole history instead: what a replica without snapshots would read
  const replayBus = await newBus('replay')
  const store = new KvStore<unknown>('flags')
  start = now()
  const reader: StreamReader = replayBus.stream({
    label: 'full replay',
    stream: late.streams.data,
    from: 'first',
    prefetch: 2000,
    handle: (message) => {
      if (message.routingKey !== FLAG_CHANGED) return
      const change = JSON.parse(message.content.toString()) as { key: string; version: number; value: unknown }
      store.apply(change.key, change.version, change.value)
    }
  })
  await reader.start()
  await reader.caughtUp({ timeoutMs: 600_000 })
  const replayMs = now() - start
  await reader.stop()
  return {
    keys,
    updates,
    writeSeconds: round(writeSeconds),
    snapshotKeys: pointer.keys,
    snapshotParts: pointer.parts,
    bootstrapMs: round(bootstrapMs, 0),
    messagesReadToBootstrap: applied,
    fullReplayMs: round(replayMs, 0),
    sameStateAsOwner: same
  }
}

function printTable(result: { read: any; propagation: any; sustained: any; bootstrap: any }) {
  const { read, propagation, sustained, bootstrap } = result
  console.log('| measure | value |')
  console.log('| --- | --- |')
  console.log(`| replica get (memory) | ${read.memoryGetNs} ns |`)
  console.log(`| same lookup by primary key in PostgreSQL | ${read.postgresByKeyUs} us (**${read.ratio.toLocaleString('en')}x** slower) |`)
  for (const p of [propagation, sustained]) {
    console.log(
      `| propagation, admin's commit to applied in ${p.replicas} replicas, ${p.updates} PUTs offered at ${p.offeredPerSec}/s, committed at ${p.committedPerSec}/s, ${p.failed} failed (${p.samples} samples) | p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, max ${p.maxMs} ms; PUT from its intended send p50 ${p.request.p50Ms} ms, p99 ${p.request.p99Ms} ms; ${p.request.cpu.benchProcessMsPerK} ms CPU per 1,000 in this process, PostgreSQL ${p.request.cpu.databaseMsPerK} |`
    )
  }
  console.log(`| bootstrap of ${bootstrap.keys.toLocaleString('en')} keys after ${bootstrap.updates.toLocaleString('en')} updates | **${bootstrap.bootstrapMs} ms** (${bootstrap.messagesReadToBootstrap} messages read; same state: ${bootstrap.sameStateAsOwner}) |`)
  console.log(`| the same from the first offset (whole history) | ${bootstrap.fullReplayMs} ms |`)
}
