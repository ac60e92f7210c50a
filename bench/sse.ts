/**
 * `npm run bench -- sse`: the gateway's SSE fan-out against bare better-sse.
 *
 * 1. A bare better-sse server (plain node:http, one channel) and then the
 *    gateway, each in a child process of its own, get N keep-alive
 *    connections from this process (raw sockets). Measured: RSS delta of the
 *    server process per connection (after a forced GC), and the time from
 *    asking for one broadcast until all N sockets have received it (five
 *    rounds, median). For the gateway the broadcast is a `maintenance.scheduled`
 *    published to RabbitMQ: broker, history insert and fan-out are all in it.
 *    Its connections are users (JWT) and appliances (tokens from POST /appliances).
 * 2. With the N connections still open, `order.created` at a steady rate
 *    written through a transactional outbox (committed, then relayed with
 *    publisher confirms, by a producer process of its own, as the orders
 *    service runs): p50/p99 from the commit to the order arriving at a
 *    reference appliance (`runAppliance`), in rounds after a warm-up; then the
 *    same published straight to the exchange.
 *
 * Run alone: `npx tsx bench/sse.ts`. SSE_BENCH_CONNECTIONS, SSE_BENCH_RATE and
 * SSE_BENCH_SECONDS override N (10,000), the rate (200/s) and the duration of a round (10 s);
 * SSE_BENCH_ROUNDS (3) how many rounds (the median is reported); SSE_BENCH_WARM_UP_SECONDS (3)
 * the uncounted orders at that rate before the rounds of each path.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createChannel, createSession } from 'better-sse'
import { Bus } from '../shared/bus/bus.ts'
import { OutboxRelay } from '../shared/bus/outbox-relay.ts'
import { busMigrations } from '../shared/bus/outbox-table.ts'
import { writeOutbox } from '../shared/bus/outbox.ts'
import { readEnv } from '../shared/config/env.ts'
import { MAINTENANCE_SCHEDULED, ORDER_CREATED, type OrderCreated } from '../shared/contracts/index.ts'
import { createKnex, schemaName } from '../shared/db/database.ts'
import { migrate } from '../shared/db/migrations.ts'
import { dropNamespaceSchemas, identity, Management } from '../shared/testing/index.ts'
import { runAppliance, type RunningAppliance } from '../cli/appliance/index.ts'

const thisFile = fileURLToPath(import.meta.url)

export interface SseBenchmarkResult {
  connections: number
  /** RabbitMQ's memory when the run began: a broker still holding a previous run's quorum-queue memory is slower */
  brokerMemoryMbAtStart?: number
  bare: ServerFigures
  gateway: ServerFigures & { users: number; appliances: number }
  ratios: { memory: number; broadcast: number }
  /** commit of the outbox transaction to the order at an appliance: what a buyer's order goes through */
  latency: LatencyFigures
  /** the same orders published straight to the exchange: the gateway's own share, without the outbox relay */
  busLatency: LatencyFigures
  goals: { memoryWithin1_2x: boolean; broadcastWithin1_2x: boolean; p99Under50ms: boolean }
}

interface LatencyFigures {
  /** the round with the median p99 is reported (its stages with it); every round's p50 and p99 are listed */
  rounds?: Array<{ p50Ms: number; p99Ms: number; received: number }>
  ratePerSec: number
  orders: number
  received: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  appliances: number
  /** where the time went, p50/p99 of each stage (ms), for the orders every stage saw */
  stages: Record<string, { p50: number; p99: number }>
}

interface ServerFigures {
  rssBeforeMB: number
  rssAfterMB: number
  kbPerConnection: number
  /** median of the rounds */
  broadcastMs: number
  broadcastRoundsMs: number[]
}

type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'rss'; rss: number }
  | { type: 'broadcasted' }
  | { type: 'trace'; orders: Record<string, GatewayTimes> }
  | { type: 'profiled'; file?: string }
  | {
      type: 'produced'
      /** by order id: when the clock starts (commit of its outbox transaction, or the publish call), wall clock */
      started: Record<string, number>
      /** by order id: its publish handed to the channel, and confirmed (wall clock) */
      published: Record<string, [sentAt: number, confirmedAt: number]>
    }

/** Asks the producer child for `total` order.created at `rate`, to these sellers' appliances. */
interface ProduceRequest {
  type: 'produce'
  via: 'outbox' | 'bus'
  total: number
  rate: number
  sellerIds: string[]
  buyerId: string
}

/** When the gateway's live queue delivered an order, when recording its batch began, when its id was known, when it was pushed (wall clock, ms). */
type GatewayTimes = [deliveredAt: number, recordingAt: number, recordedAt: number, pushedAt: number]

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const wallNow = () => performance.timeOrigin + performance.now()

// ---------------------------------------------------------------- children

/** A child process running one server, spoken to over IPC. */
class ServerChild {
  private constructor(
    readonly process: ChildProcess,
    readonly port: number
  ) {}

  static async start(role: 'bare' | 'gateway' | 'producer', env: NodeJS.ProcessEnv): Promise<ServerChild> {
    // as many descriptors as the hard limit allows: N sockets plus the server's own
    const command = `ulimit -n $(ulimit -Hn); exec "${process.execPath}" --expose-gc --import tsx "${thisFile}" ${role}`
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
    const ready = await new Promise<ChildMessage>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ChildMessage))
      child.once('exit', (code) => reject(new Error(`${role} server exited (${code}) before it was ready`)))
    })
    if (ready.type !== 'ready') throw new Error(`unexpected message from the ${role} server`)
    return new ServerChild(child, ready.port)
  }

  async ask<T extends ChildMessage['type']>(message: object, answer: T): Promise<Extract<ChildMessage, { type: T }>> {
    const reply = new Promise<ChildMessage>((resolve) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type !== answer) return
        this.process.off('message', onMessage)
        resolve(m)
      }
      this.process.on('message', onMessage)
    })
    this.process.send(message)
    return (await reply) as Extract<ChildMessage, { type: T }>
  }

  async rss(): Promise<number> {
    return (await this.ask({ type: 'rss' }, 'rss')).rss
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return
    const exited = once(this.process, 'exit')
    this.process.kill('SIGTERM')
    await exited
  }
}

function measuredRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) gc?.()
  return process.memoryUsage().rss
}

/** Child role: one better-sse channel on a plain node:http server, nothing else. */
async function bareServer(): Promise<void> {
  const channel = createChannel()
  const server = createServer(async (req, res) => {
    if (!req.url?.startsWith('/events')) {
      res.writeHead(404).end()
      return
    }
    channel.register(await createSession(req, res))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  process.on('message', (m: { type: string; marker?: string }) => {
    if (m.type === 'rss') process.send!({ type: 'rss', rss: measuredRss() })
    if (m.type === 'broadcast') {
      channel.broadcast({ id: m.marker, message: m.marker, startsAt: new Date().toISOString(), endsAt: new Date().toISOString() }, 'maintenance')
      process.send!({ type: 'broadcasted' })
    }
  })
  process.on('SIGTERM', () => process.exit(0))
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port })
}

/** Child role: the real gateway app (its own namespace), as `npm start` runs it. */
async function gatewayServer(): Promise<void> {
  const { createApp, gatewayParts } = await import('../services/gateway/app.ts')
  const { serve } = await import('../shared/feathers/serve.ts')
  const app = createApp()
  const server = await serve(app, 0, '127.0.0.1')
  let orders: Record<string, GatewayTimes> = {}
  const wall = (at: number) => performance.timeOrigin + at
  gatewayParts(app).feed.on('pushed', (events, t) => {
    events.forEach((event, i) => {
      if (event.routingKey === ORDER_CREATED) orders[(event.payload as OrderCreated).orderId] = [wall(t.deliveredAt[i]!), wall(t.recordingAt), wall(t.recordedAt), wall(t.pushedAt)]
    })
  })
  // SSE_BENCH_CPU_PROF=<dir>: a CPU profile of the gateway during the steady-rate phases
  const { Session } = await import('node:inspector/promises')
  const inspector = new Session()
  process.on('message', (m: { type: string }) => {
    if (m.type === 'rss') process.send!({ type: 'rss', rss: measuredRss() })
    if (m.type === 'trace') {
      process.send!({ type: 'trace', orders })
      orders = {}
    }
    if (m.type === 'profile-start') {
      inspector.connect()
      void inspector.post('Profiler.enable').then(() => inspector.post('Profiler.start'))
    }
    if (m.type === 'profile-stop') {
      void (async () => {
        const { profile } = await inspector.post('Profiler.stop')
        const { mkdir, writeFile } = await import('node:fs/promises')
        const dir = process.env.SSE_BENCH_CPU_PROF!
        await mkdir(dir, { recursive: true })
        const file = `${dir}/gateway-${Date.now()}.cpuprofile`
        await writeFile(file, JSON.stringify(profile))
        inspector.disconnect()
        process.send!({ type: 'profiled', file })
      })()
    }
  })
  process.on('SIGTERM', () => {
    server.closeAllConnections()
    void app.teardown().finally(() => process.exit(0))
  })
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port })
}

/**
 * Child role: the producing service (its own schema, outbox and relay, as the
 * orders service runs them). Sends order.created at a steady rate, through the
 * outbox (the clock starts when the transaction has committed: when POST
 * /orders would answer) or published straight to the exchange.
 */
async function producerServer(): Promise<void> {
  const env = readEnv()
  const schema = schemaName(env.namespace, 'benchorders')
  const db = createKnex(env.databaseUrl, schema)
  await migrate(db, schema, busMigrations)
  const bus = new Bus({ url: env.amqpUrl, namespace: env.namespace, service: 'orders' })
  await bus.start()
  const relay = new OutboxRelay({ db, databaseUrl: env.databaseUrl, schema, namespace: env.namespace, publisher: bus.publisher })
  await relay.start()

  let published: Record<string, [number, number]> = {}
  const publishRaw = bus.publisher.publishRaw.bind(bus.publisher)
  bus.publisher.publishRaw = (message) => {
    const orderId = message.routingKey === ORDER_CREATED ? (JSON.parse(message.body.toString('utf8')) as OrderCreated).orderId : undefined
    const sentAt = wallNow()
    const result = publishRaw(message)
    if (orderId) void result.then(() => (published[orderId] = [sentAt, wallNow()]), () => {})
    return result
  }

  const produce = async ({ via, total, rate, sellerIds, buyerId }: ProduceRequest) => {
    published = {}
    const started: Record<string, number> = {}
    const begun = performance.now()
    const writes: Array<Promise<void>> = []
    for (let i = 0; i < total; i++) {
      const wait = begun + (i * 1000) / rate - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      const sellerId = sellerIds[i % sellerIds.length]!
      const order: OrderCreated = {
        orderId: randomUUID(),
        buyerId,
        sellerId,
        items: [{ productId: randomUUID(), sellerId, title: 'Bench item', unitPrice: 1_000, quantity: 1 }],
        total: 1_000,
        currency: 'EUR',
        createdAt: new Date().toISOString()
      }
      if (via === 'bus') {
        started[order.orderId] = wallNow()
        writes.push(bus.publisher.publish(ORDER_CREATED, order).then(() => {}))
      } else {
        writes.push(
          db
            .transaction((trx) => writeOutbox(trx, { namespace: env.namespace, appId: 'orders', schema }, ORDER_CREATED, order))
            .then(() => void (started[order.orderId] = wallNow()))
        )
      }
    }
    await Promise.all(writes)
    // every publish confirmed (the relay's too) before answering
    const deadline = Date.now() + 30_000
    while (Object.keys(published).length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    process.send!({ type: 'produced', started, published } satisfies ChildMessage)
  }
  process.on('message', (m: ProduceRequest) => {
    if (m.type === 'produce') void produce(m)
  })
  process.on('SIGTERM', () => {
    void relay.stop().then(() => bus.stop()).then(() => db.destroy()).finally(() => process.exit(0))
  })
  process.send!({ type: 'ready', port: 0 })
}

// ---------------------------------------------------------------- clients

/** N raw keep-alive SSE connections from this process; each notices when a marker reaches it. */
class ClientPool {
  readonly sockets: Socket[] = []
  private waiting?: { marker: Buffer; pending: Set<Socket>; done: () => void }

  async open(port: number, tokens: Array<string | undefined>, concurrency = 200): Promise<void> {
    let next = 0
    const openOne = async (token: string | undefined) => {
      const socket = connect(port, '127.0.0.1')
      socket.setNoDelay(true)
      socket.on('error', () => {})
      const auth = token ? `Authorization: Bearer ${token}\r\n` : ''
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${auth}\r\n`)
      // the response head and the retry hint: the session is registered
      const [first] = (await once(socket, 'data')) as [Buffer]
      if (!first.toString('latin1').startsWith('HTTP/1.1 200')) throw new Error(`stream refused: ${first.toString('latin1').split('\r\n')[0]}`)
      socket.on('data', (chunk: Buffer) => {
        const waiting = this.waiting
        if (waiting && waiting.pending.has(socket) && chunk.includes(waiting.marker)) {
          waiting.pending.delete(socket)
          if (waiting.pending.size === 0) waiting.done()
        }
      })
      this.sockets.push(socket)
    }
    await Promise.all(
      Array.from({ length: Math.min(concurrency, tokens.length) }, async () => {
        while (next < tokens.length) await openOne(tokens[next++])
      })
    )
  }

  /** Milliseconds from `trigger` until every socket has received `marker`. */
  async timeBroadcast(marker: string, trigger: () => Promise<unknown>, timeoutMs = 60_000): Promise<number> {
    const started = performance.now()
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broadcast reached ${this.sockets.length - (this.waiting?.pending.size ?? 0)} of ${this.sockets.length} in ${timeoutMs} ms`)), timeoutMs)
      this.waiting = { marker: Buffer.from(marker), pending: new Set(this.sockets), done: () => { clearTimeout(timer); resolve() } }
    })
    await trigger()
    await all
    this.waiting = undefined
    return performance.now() - started
  }

  close(): void {
    for (const socket of this.sockets.splice(0)) socket.destroy()
  }
}

// ---------------------------------------------------------------- helpers

const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function measureServer(
  child: ServerChild,
  tokens: Array<string | undefined>,
  broadcast: (marker: string) => Promise<unknown>
): Promise<ServerFigures & { pool: ClientPool }> {
  const rssBefore = await child.rss()
  const pool = new ClientPool()
  await pool.open(child.port, tokens)
  const rssAfter = await child.rss()
  const rounds: number[] = []
  // five rounds, the median reported: the first is always slower (code not yet optimised, buffers not yet grown)
  for (let i = 0; i < 5; i++) {
    const marker = `bench-${randomBytes(6).toString('hex')}`
    rounds.push(round(await pool.timeBroadcast(marker, () => broadcast(marker)), 1))
  }
  return {
    pool,
    rssBeforeMB: mb(rssBefore),
    rssAfterMB: mb(rssAfter),
    kbPerConnection: round((rssAfter - rssBefore) / tokens.length / 1024, 1),
    broadcastMs: median(rounds),
    broadcastRoundsMs: rounds
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!)
    }
  }))
  return results
}

async function createAppliance(origin: string, sellerToken: string): Promise<string> {
  const response = await fetch(`${origin}/appliances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sellerToken}` },
    body: JSON.stringify({ name: 'bench printer' })
  })
  if (response.status !== 201) throw new Error(`POST /appliances: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { token: string }).token
}

// ---------------------------------------------------------------- the benchmark

export async function runSseBenchmark(): Promise<SseBenchmarkResult> {
  const n = Number(process.env.SSE_BENCH_CONNECTIONS || 10_000)
  const rate = Number(process.env.SSE_BENCH_RATE || 200)
  const seconds = Number(process.env.SSE_BENCH_SECONDS || 10)
  const rounds = Number(process.env.SSE_BENCH_ROUNDS || 3)
  // orders sent, and not counted, before each steady phase: measured warm, as a running service is
  const warmUpSeconds = Number(process.env.SSE_BENCH_WARM_UP_SECONDS ?? 3)
  const base = readEnv()
  const ns = `bench_sse_${randomBytes(3).toString('hex')}`
  const env = { ...process.env, BAZAAR_NAMESPACE: ns, LOG_LEVEL: process.env.LOG_LEVEL || 'warn' }
  const log = (line: string) => console.log(`[sse] ${line}`)
  const cleanups: Array<() => Promise<unknown>> = []

  const brokerMemoryMbAtStart = await new Management()
    .request<Array<{ mem_used?: number }>>('GET', '/api/nodes')
    .then((nodes) => (nodes[0]?.mem_used ? mb(nodes[0].mem_used) : undefined), () => undefined)
  log(`RabbitMQ memory at start: ${brokerMemoryMbAtStart ?? '?'} MB`)
  try {
    // ---- bare better-sse
    log(`bare better-sse: ${n} connections`)
    const bare = await ServerChild.start('bare', env)
    cleanups.push(() => bare.stop())
    const bareFigures = await measureServer(bare, new Array(n).fill(undefined), (marker) => bare.ask({ type: 'broadcast', marker }, 'broadcasted'))
    bareFigures.pool.close()
    await bare.stop()
    log(`bare: ${bareFigures.kbPerConnection} KB/connection, broadcast ${bareFigures.broadcastMs} ms (${bareFigures.broadcastRoundsMs.join(', ')})`)

    // ---- the gateway
    const gateway = await ServerChild.start('gateway', env)
    cleanups.push(() => gateway.stop())
    cleanups.push(() => new Management().deleteNamespace(ns))
    cleanups.push(() => dropNamespaceSchemas(ns))
    const origin = `http://127.0.0.1:${gateway.port}`
    const applianceCount = Math.round(n / 5)
    const userCount = n - applianceCount
    log(`gateway: ${userCount} users and ${applianceCount} appliances`)
    const sellers = Array.from({ length: Math.max(1, Math.round(applianceCount / 10)) }, () => identity('seller'))
    const applianceTokens = await mapLimit(Array.from({ length: applianceCount }, (_, i) => sellers[i % sellers.length]!), 16, (s) => createAppliance(origin, s.token))
    const userTokens = Array.from({ length: userCount }, (_, i) => identity(i % 2 ? 'buyer' : 'seller').token)
    const tokens = userTokens.flatMap((t, i) => (i < applianceTokens.length ? [t, applianceTokens[i]!] : [t]))

    const bus = new Bus({ url: base.amqpUrl, namespace: ns, service: 'cli' })
    await bus.start()
    cleanups.unshift(() => bus.stop())
    const gatewayFigures = await measureServer(gateway, tokens, (marker) =>
      bus.publisher.publish(MAINTENANCE_SCHEDULED, { id: marker, message: marker, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 1_000).toISOString() })
    )
    cleanups.unshift(async () => gatewayFigures.pool.close())
    log(`gateway: ${gatewayFigures.kbPerConnection} KB/connection, broadcast ${gatewayFigures.broadcastMs} ms (${gatewayFigures.broadcastRoundsMs.join(', ')})`)

    // ---- orders at a steady rate, through the outbox, to appliances
    const latencySellers = Array.from({ length: 20 }, () => identity('seller'))
    const printers: RunningAppliance[] = []
    /** when each order first reached an appliance (wall clock) */
    const receivedAt = new Map<string, number>()
    for (const seller of latencySellers) {
      const printer = runAppliance({ url: origin, token: await createAppliance(origin, seller.token), stdout: new PassThrough().resume(), stderr: new PassThrough().resume() })
      printer.on('order', (order) => {
        if (!receivedAt.has(order.orderId)) receivedAt.set(order.orderId, wallNow())
      })
      printers.push(printer)
      cleanups.unshift(() => printer.stop())
      await once(printer, 'connected')
    }
    // The orders come from a process of their own with its outbox relay, as the orders service is deployed:
    // its transactions and relay do not share an event loop with the appliances that time them.
    const producer = await ServerChild.start('producer', env)
    cleanups.unshift(() => producer.stop())
    const profiling = Boolean(process.env.SSE_BENCH_CPU_PROF)

    const total = rate * seconds
    const warmUp = Math.round(rate * warmUpSeconds)
    const buyer = identity('buyer')
    const steady = async (via: 'outbox' | 'bus', total = rate * seconds, warming = false): Promise<LatencyFigures> => {
      receivedAt.clear()
      await gateway.ask({ type: 'trace' }, 'trace')
      if (profiling) gateway.process.send({ type: 'profile-start' })
      log(`${warming ? 'warm-up, not counted: ' : ''}${total} order.created at ${rate}/s ${via === 'outbox' ? 'through the outbox' : 'published straight to the bus'} to ${printers.length} appliances`)
      const request: ProduceRequest = { type: 'produce', via, total, rate, sellerIds: latencySellers.map((s) => s.id), buyerId: buyer.id }
      const { started, published } = await producer.ask(request, 'produced')
      const arrived = () => Object.keys(started).filter((orderId) => receivedAt.has(orderId)).length
      const deadline = Date.now() + 30_000
      while (arrived() < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      const latencies = Object.entries(started).flatMap(([orderId, at]) => (receivedAt.has(orderId) ? [receivedAt.get(orderId)! - at] : []))
      const sorted = latencies.sort((a, b) => a - b)
      if (profiling) log(`gateway CPU profile: ${(await gateway.ask({ type: 'profile-stop' }, 'profiled')).file}`)
      const trace = (await gateway.ask({ type: 'trace' }, 'trace')).orders
      const stageValues: Record<string, number[]> = {}
      const add = (stage: string, ms: number) => (stageValues[stage] ??= []).push(ms)
      for (const [orderId, start] of Object.entries(started)) {
        const received = receivedAt.get(orderId)
        const pub = published[orderId]
        const gw = trace[orderId]
        if (received === undefined || !pub || !gw) continue
        const [sentAt, confirmedAt] = pub
        if (via === 'outbox') add('commit -> publish sent (relay)', sentAt - start)
        add('publish sent -> confirmed', confirmedAt - sentAt)
        add('publish sent -> live queue delivery', gw[0] - sentAt)
        add('delivery -> recording starts (queued behind batches)', gw[1] - gw[0])
        add('recording (history insert, id known)', gw[2] - gw[1])
        add('id known -> pushed', gw[3] - gw[2])
        add('pushed -> appliance', received - gw[3])
      }
      const stages: LatencyFigures['stages'] = {}
      for (const [stage, values] of Object.entries(stageValues)) {
        values.sort((a, b) => a - b)
        stages[`${stage} (${values.length})`] = { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) }
      }
      return {
        ratePerSec: rate,
        orders: total,
        received: latencies.length,
        p50Ms: round(percentile(sorted, 50)),
        p99Ms: round(percentile(sorted, 99)),
        maxMs: round(sorted.at(-1) ?? NaN),
        appliances: printers.length,
        stages
      }
    }
    /** Rounds of the steady phase after a warm-up: this machine is noisy, so the median round is the figure. */
    const measured = async (via: 'outbox' | 'bus'): Promise<LatencyFigures> => {
      if (warmUp > 0) await steady(via, warmUp, true)
      const runs: LatencyFigures[] = []
      for (let i = 0; i < rounds; i++) runs.push(await steady(via))
      const median = [...runs].sort((a, b) => a.p99Ms - b.p99Ms)[runs.length >> 1]!
      return { ...median, rounds: runs.map((r) => ({ p50Ms: r.p50Ms, p99Ms: r.p99Ms, received: r.received })) }
    }
    const latency = await measured('outbox')
    const busLatency = await measured('bus')
    const everyOrderArrived = (latency.rounds ?? []).every((r) => r.received === total)

    const result: SseBenchmarkResult = {
      connections: n,
      brokerMemoryMbAtStart,
      bare: strip(bareFigures),
      gateway: { ...strip(gatewayFigures), users: userCount, appliances: applianceCount },
      ratios: {
        memory: round(gatewayFigures.kbPerConnection / bareFigures.kbPerConnection),
        broadcast: round(gatewayFigures.broadcastMs / bareFigures.broadcastMs)
      },
      latency,
      busLatency,
      goals: { memoryWithin1_2x: false, broadcastWithin1_2x: false, p99Under50ms: latency.p99Ms < 50 && everyOrderArrived }
    }
    result.goals.memoryWithin1_2x = result.ratios.memory <= 1.2
    result.goals.broadcastWithin1_2x = result.ratios.broadcast <= 1.2
    print(result)
    return result
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {})
  }
}

function strip(figures: ServerFigures & { pool?: ClientPool }): ServerFigures {
  const { pool: _pool, ...rest } = figures
  return rest
}

function print(r: SseBenchmarkResult): void {
  const rows: Array<[string, string, string, string]> = [
    ['', 'bare better-sse', 'gateway', 'gateway/bare'],
    ['connections', String(r.connections), `${r.connections} (${r.gateway.users} users, ${r.gateway.appliances} appliances)`, ''],
    ['server RSS before -> after (MB)', `${r.bare.rssBeforeMB} -> ${r.bare.rssAfterMB}`, `${r.gateway.rssBeforeMB} -> ${r.gateway.rssAfterMB}`, ''],
    ['memory per connection (KB)', String(r.bare.kbPerConnection), String(r.gateway.kbPerConnection), `${r.ratios.memory}x (goal <= 1.2x)`],
    ['one broadcast to all, median of 5 (ms)', String(r.bare.broadcastMs), String(r.gateway.broadcastMs), `${r.ratios.broadcast}x (goal <= 1.2x)`]
  ]
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c]!.length)))
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '))
  const l = r.latency
  console.log(
    `order.created at ${l.ratePerSec}/s via the outbox, commit -> receipt at an appliance (${l.received}/${l.orders} received, ${l.appliances} appliances, ${r.connections} other streams open): ` +
      `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (goal p99 < 50 ms)`
  )
  const roundsOf = (f: LatencyFigures) => (f.rounds ?? []).map((x) => `${x.p50Ms}/${x.p99Ms}`).join(', ')
  console.log(`  the round with the median p99 of ${l.rounds?.length ?? 1}; each round's p50/p99 ms: ${roundsOf(l)}`)
  const b = r.busLatency
  console.log(
    `the same, published straight to the exchange (no outbox relay): ${b.received}/${b.orders} received, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms, max ${b.maxMs} ms`
  )
  console.log(`  the round with the median p99 of ${b.rounds?.length ?? 1}; each round's p50/p99 ms: ${roundsOf(b)}`)
  for (const [label, figures] of [['via the outbox', l], ['straight to the exchange', b]] as const) {
    console.log(`stages, ${label} (p50 / p99 ms; orders counted):`)
    for (const [stage, { p50, p99 }] of Object.entries(figures.stages)) console.log(`  ${stage.padEnd(52)} ${String(p50).padStart(8)} / ${p99}`)
  }
}

// ---------------------------------------------------------------- entry

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const role = process.argv[2]
  if (role === 'bare') await bareServer()
  else if (role === 'gateway') await gatewayServer()
  else if (role === 'producer') await producerServer()
  else {
    await runSseBenchmark()
    process.exit(0)
  }
}
