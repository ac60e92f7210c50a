/**
 * `npm run bench -- bus`: the bus against plain amqplib, in one run, on this machine.
 *
 * 1. plain amqplib: N x 1 KB through one quorum queue (confirm windows, prefetch, manual acks);
 * 2. the same through Bazaar's Bus (publisher.publish with a ~1 KB contract payload, Bus consumer);
 * 3. the same through the clients people pick instead of plain amqplib, rascal and rabbitmq-client, with the
 *    same guarantees (confirms per window, persistent, manual acks, same prefetch);
 * 4. the exactly-once path: insert + writeOutbox in one transaction, OutboxRelay, consumer with idempotent();
 * 5. what a team writes by hand without outbox or inbox (the dual write): insert in a transaction, commit, publish
 *    with a confirm; the consumer runs the effect in a transaction, then acks. It can lose or double messages;
 * 6. latency at a steady rate, plain and bus;
 * 7. the bus path with metrics, and with tracing on (spans exported over OTLP to an in-process endpoint).
 * Each is run BENCH_RUNS times, interleaved, and the medians are reported with the ratios to plain.
 */
import { randomUUID } from 'node:crypto'
import { writeFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import amqp from 'amqplib'
import Table from 'cli-table3'
import type { Knex } from 'knex'
import { readEnv } from '../shared/config/env.ts'
import { createKnex, schemaName } from '../shared/db/database.ts'
import { migrate, type Migration } from '../shared/db/migrations.ts'
import { Bus, OutboxRelay, busMigrations, idempotent, writeOutbox, type Envelope } from '../shared/bus/index.ts'
import { BusMetrics } from '../shared/metrics/bus.ts'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import { enableTracing } from '../shared/tracing/provider.ts'
import { NullCollector } from './lib/null-collector.ts'
import { Registry } from 'prom-client'
import { createBusLane } from '../shared/bus/lane.ts'
import { sqlTransaction } from '../shared/bus/sql.ts'
import { PRODUCT_CREATED, PRODUCT_UPDATED, type ProductEvent } from '../shared/contracts/index.ts'
import { Management, dropNamespaceSchemas, uniqueNamespace } from '../shared/testing/index.ts'
import { intFromEnv } from './lib/env.ts'
import { machineInfo } from './lib/machine.ts'
import { paced, pooled } from './lib/pace.ts'
import { rabbitmqClientThroughput, rascalThroughput, type PeerRun } from './lib/peers.ts'
import { Stages } from './lib/stages.ts'
import { Tracker, medianMeasure, now, type Measure } from './lib/stats.ts'
import pg from 'pg'

const config = {
  n: intFromEnv('BENCH_N', 50_000),
  // Smaller by default: the path runs at a few hundred msg/s here, and 3 runs of 20,000 would take 5 minutes or more.
  nExactlyOnce: intFromEnv('BENCH_N_EXACTLY_ONCE', 5_000),
  runs: intFromEnv('BENCH_RUNS', 3),
  confirmWindow: intFromEnv('BENCH_CONFIRM_WINDOW', 1_000),
  /**
   * rascal holds a confirm channel per unconfirmed publish: its pool is its confirm window (5 by default, which
   * caps it at a few hundred msg/s here). As large as the others' window would mean 1,000 channels; 100 is what a
   * team tuning it would plausibly run
   */
  rascalConfirmChannels: intFromEnv('BENCH_RASCAL_CONFIRM_CHANNELS', 100),
  prefetch: intFromEnv('BENCH_PREFETCH', 500),
  /** concurrent producer transactions on the exactly-once path */
  transactionsInFlight: intFromEnv('BENCH_TX_IN_FLIGHT', 50),
  /** the producing and the consuming service's pool, as createServiceApp gives them */
  poolSize: intFromEnv('BENCH_POOL', 10),
  /**
   * the producer's transaction: `sql` (sqlTransaction: the insert awaited, then the outbox row, which goes with the COMMIT),
   * `pipelined` (the same, the insert not awaited: one write per transaction, its error fails the COMMIT) or
   * `knex` (db.transaction, as the transactional() hook does)
   */
  producerTransaction: producerTransactionFromEnv(),
  /** the consumer's inbox batches (idempotent's `batch.maxSize`); 1 commits each delivery on its own */
  inboxBatch: intFromEnv('BENCH_INBOX_BATCH', 50),
  /** inbox batches in flight at once (idempotent's `batch.concurrency`), each on a connection of the consumer's pool */
  inboxConcurrency: intFromEnv('BENCH_INBOX_CONCURRENCY', 4),
  /**
   * 1: a batch's effects start together on a connection of the consumer's bus lane (idempotent's
   * `batch.pipelined`: three round trips a batch); 0: one after the other on the consumer's knex pool
   */
  inboxPipelined: process.env.BENCH_INBOX_PIPELINED !== '0',
  /** messages sent through the exactly-once path before the clock starts, so it is measured warm, as a running service is */
  warmUp: intFromEnv('BENCH_WARM_UP', 1_000),
  steadyRate: intFromEnv('BENCH_STEADY_RATE', 1_000),
  steadySeconds: intFromEnv('BENCH_STEADY_SECONDS', 5),
  messageBytes: 1_024,
  /** the share of traces the sampled tracing path records (a parent-based ratio sampler, as OTEL_TRACES_SAMPLER=parentbased_traceidratio) */
  tracesSampled: Number(process.env.BENCH_TRACES_SAMPLED || 0.01),
  /** a comma-separated subset of the scenarios (plain,bus,exactlyOnce,steadyPlain,steadyBus), for profiling one */
  only: process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined
}

function producerTransactionFromEnv(): 'sql' | 'pipelined' | 'knex' {
  const value = process.env.BENCH_PRODUCER_TX || 'sql'
  if (value === 'sql' || value === 'pipelined' || value === 'knex') return value
  throw new Error(`BENCH_PRODUCER_TX must be sql, pipelined or knex (got ${JSON.stringify(value)})`)
}

const goals = {
  busOverPlain: 0.9,
  exactlyOnceOverPlain: 0.5,
  /** the bus's msg/s over the fastest of plain amqplib, rascal and rabbitmq-client */
  busOverFastestPeer: 0.95,
  /** the bus's CPU per 1,000 messages (this process) over plain amqplib's: at most */
  busCpuOverPlain: 1.15,
  /** exactly-once msg/s over the hand-written dual write's */
  exactlyOnceOverDualWrite: 1.2,
  /** exactly-once p99 over the dual write's: at most */
  exactlyOnceP99OverDualWrite: 1.5
}

interface Context {
  namespace: string
  amqpUrl: string
  databaseUrl: string
}

// ---------------------------------------------------------------- messages

const SELLER = '5d1f0c44-8a8e-4d3b-9a51-0f7d3c2b1a90'
const LOREM = 'A hand-thrown stoneware mug, glazed in ash and iron, fired twice; holds 350 ml and keeps coffee warm. '

/** A product.updated payload whose JSON is `bytes` long, so the bus carries as much as plain amqplib. */
function productPayload(productId: string, bytes = config.messageBytes): ProductEvent {
  const payload: ProductEvent = {
    productId,
    sellerId: SELLER,
    parentId: null,
    title: 'Stoneware mug, ash glaze',
    description: '',
    price: 2_400,
    currency: 'EUR',
    stock: 12,
    version: 2,
    updatedAt: new Date().toISOString()
  }
  const room = Math.max(0, bytes - Buffer.byteLength(JSON.stringify(payload)))
  payload.description = filler(room)
  return payload
}

/** The description padding, made once per length (the exactly-once path builds a payload per message). */
const fillers = new Map<number, string>()
function filler(length: number): string {
  let text = fillers.get(length)
  if (text === undefined) fillers.set(length, (text = LOREM.repeat(Math.ceil(length / LOREM.length)).slice(0, length)))
  return text
}

/** Message ids carry the run's tag and the sequence number: `<tag>-<seq>`. */
const messageId = (tag: string, seq: number) => `${tag}-${seq}`
/** The sequence number, or -1 for a message of another run (redelivered after its consumer closed). */
const seqOf = (id: string, tag: string) => (id.startsWith(`${tag}-`) ? Number(id.slice(tag.length + 1)) : -1)

/** Generous bound on one measurement: the run fails loudly rather than hang. */
const timeoutFor = (n: number) => 60_000 + n * 2

// ---------------------------------------------------------------- plain amqplib

const plainNames = (ns: string) => ({ exchange: `${ns}.plain`, queue: `${ns}.bench.plain`, dualQueue: `${ns}.bench.dual` })

async function declarePlain(ctx: Context): Promise<void> {
  const model = await amqp.connect(ctx.amqpUrl)
  try {
    const channel = await model.createChannel()
    const { exchange, queue, dualQueue } = plainNames(ctx.namespace)
    await channel.assertExchange(exchange, 'topic', { durable: true })
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await channel.bindQueue(queue, exchange, PRODUCT_UPDATED)
    await channel.assertQueue(dualQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await channel.bindQueue(dualQueue, exchange, PRODUCT_CREATED)
  } finally {
    await model.close()
  }
}

/**
 * Plain amqplib with a publisher and a consumer connection, as two services
 * would have, carrying the same messages as the bus: the same ~1 KB JSON
 * payload and the contract's properties and headers (what a team wiring
 * amqplib by hand would send), but no validation, work context, retries or
 * dead letters. `publish(tracker, channel, send)` decides the pattern.
 */
async function withPlain(
  ctx: Context,
  n: number,
  publish: (tracker: Tracker, channel: amqp.ConfirmChannel, send: (seq: number) => void) => Promise<void>
): Promise<Measure> {
  const { exchange, queue } = plainNames(ctx.namespace)
  const tracker = new Tracker(n)
  const tag = randomUUID().slice(0, 8)
  const publisherModel = await amqp.connect(ctx.amqpUrl)
  const consumerModel = await amqp.connect(ctx.amqpUrl)
  const consumer = await consumerModel.createChannel()
  try {
    await consumer.prefetch(config.prefetch)
    await consumer.consume(queue, (message) => {
      if (!message) return
      JSON.parse(message.content.toString('utf8'))
      tracker.handledOne(seqOf(String(message.properties.messageId), tag))
      consumer.ack(message)
    })
    const channel = await publisherModel.createConfirmChannel()
    const payload = productPayload(randomUUID())
    const send = (seq: number) => {
      const id = messageId(tag, seq)
      tracker.sent(seq)
      channel.publish(exchange, PRODUCT_UPDATED, Buffer.from(JSON.stringify(payload)), {
        contentType: 'application/json',
        persistent: true,
        messageId: id,
        timestamp: Math.floor(Date.now() / 1000),
        type: PRODUCT_UPDATED,
        appId: 'bench-plain',
        headers: { 'x-request-id': id, 'x-correlation-id': id, 'x-namespace': ctx.namespace }
      })
    }
    await publish(tracker, channel, send)
    await tracker.wait(timeoutFor(n), 'plain amqplib')
    return tracker.result()
  } finally {
    // Closing the channel first lets the broker settle every ack before the connection goes.
    await consumer.close().catch(() => {})
    await publisherModel.close().catch(() => {})
    await consumerModel.close().catch(() => {})
  }
}

function plainThroughput(ctx: Context): Promise<Measure> {
  return withPlain(ctx, config.n, async (tracker, channel, send) => {
    tracker.start()
    for (let base = 0; base < config.n; base += config.confirmWindow) {
      const end = Math.min(config.n, base + config.confirmWindow)
      for (let seq = base; seq < end; seq++) send(seq)
      await channel.waitForConfirms()
    }
    tracker.allConfirmed()
  })
}

function plainSteady(ctx: Context): Promise<Measure> {
  const n = config.steadyRate * config.steadySeconds
  return withPlain(ctx, n, async (tracker, channel, send) => {
    tracker.start()
    await paced(n, config.steadyRate, send)
    await channel.waitForConfirms()
    tracker.allConfirmed()
  })
}

// ---------------------------------------------------------------- the clients people pick instead

/** The plain line's messages, for a peer client: same body, properties and headers. */
function peerRun(ctx: Context, tracker: Tracker, appId: string): PeerRun {
  const tag = randomUUID().slice(0, 8)
  const { exchange, queue } = plainNames(ctx.namespace)
  return {
    url: ctx.amqpUrl, exchange, queue, routingKey: PRODUCT_UPDATED, n: config.n,
    confirmWindow: config.confirmWindow, prefetch: config.prefetch, rascalConfirmChannels: config.rascalConfirmChannels,
    body: Buffer.from(JSON.stringify(productPayload(randomUUID()))),
    messageId: (seq) => messageId(tag, seq),
    headers: (id) => ({ 'x-request-id': id, 'x-correlation-id': id, 'x-namespace': ctx.namespace }),
    appId, tracker, seqOf: (id) => seqOf(id, tag), timeoutMs: timeoutFor(config.n)
  }
}

/** A peer client's throughput run, measured as the plain line is. */
const peer = (throughput: (run: PeerRun) => Promise<void>, appId: string) => async (ctx: Context): Promise<Measure> => {
  const tracker = new Tracker(config.n)
  await throughput(peerRun(ctx, tracker, appId))
  return tracker.result()
}

// ---------------------------------------------------------------- the bus

/**
 * Tracing on for one path: the SDK's batch processor and OTLP/HTTP exporter, sending to an in-process
 * endpoint that keeps nothing. Its queue is big enough that no span is dropped at these rates: the measure is
 * of recording and exporting them all. The sampler is the SDK's, from OTEL_TRACES_SAMPLER (default: every
 * trace), or parent-based with `sampledRatio` of the roots. `stop()` flushes, so a path that calls it before reading its CPU pays for every export.
 */
async function startBenchTracing(sampledRatio?: number): Promise<{ stop(): Promise<void> }> {
  const collector = await NullCollector.start()
  const turnOff = enableTracing({
    service: 'bench',
    ...(sampledRatio !== undefined
      ? { sampler: { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampledRatio) }), followsParent: true } }
      : {}),
    processor: new BatchSpanProcessor(new OTLPTraceExporter({ url: collector.tracesUrl }), { maxQueueSize: 262_144, maxExportBatchSize: 2_048, scheduledDelayMillis: 500 })
  })
  let stopped = false
  return {
    async stop() {
      if (stopped) return
      stopped = true
      await turnOff()
      console.log(`    tracing: ${collector.requests} OTLP requests, ${(collector.bytes / 1e6).toFixed(1)} MB exported`)
      await collector.close()
    }
  }
}

/**
 * A producing and a consuming Bus (two services, two connections), the
 * consumer on its own quorum queue bound to product.updated.
 */
async function withBus(
  ctx: Context,
  n: number,
  publish: (tracker: Tracker, send: (seq: number) => Promise<unknown>) => Promise<void>,
  /**
   * `metrics`: count it as a service app does (shared/metrics), scraped once at the end: the metrics' overhead;
   * `tracing`: tracing on, a send and a process span per message, exported over OTLP (flushed before the CPU is read)
   */
  observe: 'metrics' | 'tracing' | 'sampledTracing' | 'none' = 'none'
): Promise<Measure> {
  const metrics = observe === 'metrics'
  const tracker = new Tracker(n)
  const tracing = observe === 'tracing' ? await startBenchTracing() : observe === 'sampledTracing' ? await startBenchTracing(config.tracesSampled) : undefined
  const tag = randomUUID().slice(0, 8)
  const producer = new Bus({ url: ctx.amqpUrl, namespace: ctx.namespace, service: 'bench-producer' })
  const consuming = new Bus({ url: ctx.amqpUrl, namespace: ctx.namespace, service: 'bench-consumer' })
  consuming.consumer({
    service: 'bench-consumer',
    purpose: 'bus',
    bindings: [PRODUCT_UPDATED],
    prefetch: config.prefetch,
    handlers: {
      [PRODUCT_UPDATED]: async (message: Envelope<typeof PRODUCT_UPDATED>) => tracker.handledOne(seqOf(message.id, tag))
    }
  })
  const registry = metrics ? new Registry() : undefined
  if (registry) {
    const counting = new BusMetrics(registry)
    counting.watch(producer)
    counting.watch(consuming)
  }
  try {
    await producer.start()
    await consuming.start()
    await consuming.startConsumers()
    const payload = productPayload(randomUUID())
    const send = (seq: number) => {
      tracker.sent(seq)
      return producer.publisher.publish(PRODUCT_UPDATED, payload, { messageId: messageId(tag, seq) })
    }
    await publish(tracker, send)
    await tracker.wait(timeoutFor(n), 'bus')
    if (registry) await registry.metrics()
    await tracing?.stop()
    return tracker.result()
  } finally {
    await tracing?.stop()
    await consuming.stop().catch(() => {})
    await producer.stop().catch(() => {})
  }
}

function busThroughput(ctx: Context, observe: 'metrics' | 'tracing' | 'sampledTracing' | 'none' = 'none'): Promise<Measure> {
  return withBus(ctx, config.n, async (tracker, send) => {
    tracker.start()
    for (let base = 0; base < config.n; base += config.confirmWindow) {
      const end = Math.min(config.n, base + config.confirmWindow)
      const window: Array<Promise<unknown>> = []
      for (let seq = base; seq < end; seq++) window.push(send(seq))
      await Promise.all(window)
    }
    tracker.allConfirmed()
  }, observe)
}

function busSteady(ctx: Context): Promise<Measure> {
  const n = config.steadyRate * config.steadySeconds
  return withBus(ctx, n, async (tracker, send) => {
    const confirms: Array<Promise<unknown>> = []
    tracker.start()
    await paced(n, config.steadyRate, (seq) => confirms.push(send(seq)))
    await Promise.all(confirms)
    tracker.allConfirmed()
  })
}

// ---------------------------------------------------------------- exactly once

const PRODUCER = 'bench-producer'
const CONSUMER = 'bench-consumer'

const producerMigrations: Migration[] = [
  {
    name: '001_bench_products',
    async up(db) {
      await db.schema.createTable('products', (t) => {
        t.uuid('id').primary()
        t.string('title').notNullable()
        t.text('description').notNullable()
        t.integer('price').notNullable()
        t.integer('version').notNullable()
        t.timestamp('updated_at', { useTz: true }).notNullable()
      })
    }
  }
]

const consumerMigrations: Migration[] = [
  {
    name: '001_bench_effects',
    async up(db) {
      await db.schema.createTable('effects', (t) => {
        t.string('message_id', 128).primary()
        t.string('product_id', 64).notNullable()
        t.integer('price').notNullable()
      })
    }
  },
  {
    name: '002_bench_dual_write_effects',
    async up(db) {
      // No key on the message id: the hand-written consumer has no inbox, a redelivery doubles its effect.
      await db.schema.createTable('dual_effects', (t) => {
        t.string('message_id', 128).notNullable()
        t.string('product_id', 64).notNullable()
        t.integer('price').notNullable()
      })
    }
  }
]

async function migrateExactlyOnce(ctx: Context): Promise<void> {
  for (const [service, migrations] of [[PRODUCER, producerMigrations], [CONSUMER, consumerMigrations]] as const) {
    const schema = schemaName(ctx.namespace, service)
    const db = createKnex(ctx.databaseUrl, schema, { min: 0, max: 1 })
    try {
      await migrate(db, schema, [...busMigrations, ...migrations])
    } finally {
      await db.destroy()
    }
  }
}

/**
 * The producing service inserts a product and writes product.created to its
 * outbox in one transaction per message (`transactionsInFlight` at once, as
 * concurrent requests would); its relay publishes; the consuming service's
 * handler is `idempotent()` and writes its effect row in the inbox
 * transaction, several deliveries per transaction (`batch`, BENCH_INBOX_BATCH).
 * Latency: commit to the effect committed. Each service has one pool, shared
 * as createServiceApp shares it. Every message's effect is counted once.
 */
async function exactlyOnce(ctx: Context, traced = false): Promise<Run> {
  const n = config.nExactlyOnce
  const tracing = traced ? await startBenchTracing() : undefined
  const tracker = new Tracker(n)
  const stages = new Stages(['transaction begun', 'committed', 'delivered to the handler', 'effect committed'] as const, n)
  const tag = randomUUID().slice(0, 8)
  const warm = new Tracker(config.warmUp)
  const warmTag = randomUUID().slice(0, 8)
  const producerSchema = schemaName(ctx.namespace, PRODUCER)
  const consumerSchema = schemaName(ctx.namespace, CONSUMER)
  const producerDb = createKnex(ctx.databaseUrl, producerSchema, { min: 0, max: config.poolSize })
  const consumerDb = createKnex(ctx.databaseUrl, consumerSchema, { min: 0, max: config.poolSize })
  // the bus's own lane in the producing service, for the sqlTransaction writes. The relay opens its own
  // (batchesInFlight connections), as createServiceApp wires it: sharing this one, its claims queued behind
  // the 50 producers waiting for a connection (committed -> delivered p50 30 ms, half the path's latency)
  const producerLane = createBusLane({ databaseUrl: ctx.databaseUrl, schema: producerSchema, max: config.poolSize })
  // and in the consuming service, for the inbox's pipelined batches: a connection per batch in flight
  const consumerLane = createBusLane({ databaseUrl: ctx.databaseUrl, schema: consumerSchema, max: config.inboxConcurrency })
  const producer = new Bus({ url: ctx.amqpUrl, namespace: ctx.namespace, service: PRODUCER })
  const consuming = new Bus({ url: ctx.amqpUrl, namespace: ctx.namespace, service: CONSUMER })
  const relay = new OutboxRelay({
    db: producerDb, databaseUrl: ctx.databaseUrl, schema: producerSchema, namespace: ctx.namespace, publisher: producer.publisher
  })
  const inbox = {
    db: consumerDb, schema: consumerSchema, consumer: 'exactly-once', lane: consumerLane,
    batch: config.inboxBatch > 1 ? { maxSize: config.inboxBatch, concurrency: config.inboxConcurrency, pipelined: config.inboxPipelined } : false
  }
  const effect = idempotent<typeof PRODUCT_CREATED>(inbox, async (message, trx) => {
    await trx.withSchema(consumerSchema).table('effects').insert({
      message_id: message.id, product_id: message.payload.productId, price: message.payload.price
    })
  })
  consuming.consumer({
    service: CONSUMER,
    purpose: 'exactly-once',
    bindings: [PRODUCT_CREATED],
    prefetch: config.prefetch,
    handlers: {
      [PRODUCT_CREATED]: async (message: Envelope<typeof PRODUCT_CREATED>) => {
        const seq = seqOf(message.id, tag)
        stages.mark('delivered to the handler', seq)
        await effect(message)
        tracker.handledOne(seq)
        stages.mark('effect committed', seq)
        warm.handledOne(seqOf(message.id, warmTag))
      }
    }
  })
  const identity = { namespace: ctx.namespace, appId: PRODUCER, schema: producerSchema }
  const insertProduct =
    `insert into "${producerSchema}".products (id, title, description, price, version, updated_at) values ($1, $2, $3, $4, $5, $6)`
  /** One business transaction: the product and its event, committed together. */
  const createProduct = async (seq: number, runTag = tag) => {
    const product = productPayload(randomUUID())
    const meta = { messageId: messageId(runTag, seq) }
    if (config.producerTransaction === 'knex') {
      await producerDb.transaction(async (trx) => {
        await trx.withSchema(producerSchema).table('products').insert({
          id: product.productId,
          title: product.title,
          description: product.description,
          price: product.price,
          version: product.version,
          updated_at: product.updatedAt
        })
        await writeOutbox(trx, identity, PRODUCT_CREATED, product, meta)
      })
      return
    }
    const row = [product.productId, product.title, product.description, product.price, product.version, product.updatedAt]
    await sqlTransaction(producerLane, async (tx) => {
      if (config.producerTransaction === 'pipelined') tx.defer(insertProduct, row, 'bench_insert_product')
      else await tx.query(insertProduct, row, 'bench_insert_product')
      await writeOutbox(tx, identity, PRODUCT_CREATED, product, meta)
    })
  }
  try {
    await producer.start()
    await consuming.start()
    await consuming.startConsumers()
    await relay.start()
    await warmPool(producerDb, config.poolSize)
    await warmPool(consumerDb, config.poolSize)
    warm.start()
    await pooled(config.warmUp, config.transactionsInFlight, (seq) => createProduct(seq, warmTag))
    await warm.wait(timeoutFor(config.warmUp), 'exactly-once warm-up')
    tracker.start()
    await pooled(n, config.transactionsInFlight, async (seq) => {
      stages.mark('transaction begun', seq)
      await createProduct(seq)
      tracker.sent(seq)
      stages.mark('committed', seq)
    })
    tracker.allConfirmed() // here: the last transaction committed
    await tracker.wait(timeoutFor(n) * 2, 'exactly-once path')
    await tracing?.stop()
    const result = tracker.result()
    const [{ count }] = await consumerDb.withSchema(consumerSchema).table('effects').where('message_id', 'like', `${tag}-%`).count({ count: '*' })
    if (Number(count) !== n) throw new Error(`exactly-once path: ${count} effects for ${n} messages`)
    return { ...result, stages: stages.summary() }
  } finally {
    await tracing?.stop()
    await relay.stop().catch(() => {})
    await consuming.stop().catch(() => {})
    await producer.stop().catch(() => {})
    await producerLane.end()
    await consumerLane.end()
    await producerDb.destroy()
    await consumerDb.destroy()
  }
}

/**
 * What a team writes by hand without an outbox or an inbox, with the same
 * concurrency (`transactionsInFlight` producers, pools of `poolSize`) and
 * durability (committed rows, persistent messages on a quorum queue, confirms,
 * manual acks): the producer inserts the product in a transaction, commits,
 * then publishes product.created and awaits its confirm; the consumer runs the
 * effect in a transaction, commits, then acks. It can lose a message (a crash
 * between commit and publish, or a failed publish after commit) and double an
 * effect (a crash between the effect's commit and its ack): the exactly-once
 * path exists for that. Plain node-postgres pools, as hand-written code has them.
 */
async function dualWrite(ctx: Context): Promise<Run> {
  const n = config.nExactlyOnce
  const tracker = new Tracker(n)
  const stages = new Stages(['transaction begun', 'committed', 'publish confirmed', 'delivered to the handler', 'effect committed'] as const, n)
  const tag = randomUUID().slice(0, 8)
  const { exchange, dualQueue } = plainNames(ctx.namespace)
  const producerSchema = schemaName(ctx.namespace, PRODUCER)
  const consumerSchema = schemaName(ctx.namespace, CONSUMER)
  const producerPool = new pg.Pool({ connectionString: ctx.databaseUrl, max: config.poolSize })
  const consumerPool = new pg.Pool({ connectionString: ctx.databaseUrl, max: config.poolSize })
  producerPool.on('error', () => {})
  consumerPool.on('error', () => {})
  const publisherModel = await amqp.connect(ctx.amqpUrl)
  const consumerModel = await amqp.connect(ctx.amqpUrl)
  const insertProduct =
    `insert into "${producerSchema}".products (id, title, description, price, version, updated_at) values ($1, $2, $3, $4, $5, $6)`
  const insertEffect = `insert into "${consumerSchema}".dual_effects (message_id, product_id, price) values ($1, $2, $3)`
  const inTransaction = async (pool: pg.Pool, text: string, values: unknown[]) => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      try {
        await client.query(text, values)
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    } finally {
      client.release()
    }
  }
  try {
    const consumer = await consumerModel.createChannel()
    await consumer.prefetch(config.prefetch)
    await consumer.consume(dualQueue, (message) => {
      if (!message) return
      const id = String(message.properties.messageId)
      const seq = seqOf(id, tag)
      stages.mark('delivered to the handler', seq)
      const product = JSON.parse(message.content.toString('utf8')) as ProductEvent
      inTransaction(consumerPool, insertEffect, [id, product.productId, product.price]).then(
        () => {
          consumer.ack(message)
          tracker.handledOne(seq)
          stages.mark('effect committed', seq)
        },
        () => consumer.nack(message, false, true)
      )
    })
    const channel = await publisherModel.createConfirmChannel()
    const publish = (id: string, product: ProductEvent) =>
      new Promise<void>((resolve, reject) =>
        channel.publish(exchange, PRODUCT_CREATED, Buffer.from(JSON.stringify(product)), {
          contentType: 'application/json', persistent: true, messageId: id, timestamp: Math.floor(Date.now() / 1000),
          type: PRODUCT_CREATED, appId: 'bench-dual-write', headers: { 'x-request-id': id, 'x-correlation-id': id, 'x-namespace': ctx.namespace }
        }, (err) => (err ? reject(err) : resolve()))
      )
    const warmUp = Array.from({ length: config.poolSize }, () => inTransaction(producerPool, 'select 1', []))
    await Promise.all([...warmUp, ...Array.from({ length: config.poolSize }, () => inTransaction(consumerPool, 'select 1', []))])
    tracker.start()
    await pooled(n, config.transactionsInFlight, async (seq) => {
      const product = productPayload(randomUUID())
      const id = messageId(tag, seq)
      stages.mark('transaction begun', seq)
      await inTransaction(producerPool, insertProduct, [
        product.productId, product.title, product.description, product.price, product.version, product.updatedAt
      ])
      tracker.sent(seq) // latency from the commit, as on the exactly-once path
      stages.mark('committed', seq)
      await publish(id, product)
      stages.mark('publish confirmed', seq)
    })
    tracker.allConfirmed()
    await tracker.wait(timeoutFor(n) * 2, 'dual write')
    const result = tracker.result()
    await consumer.close().catch(() => {})
    return { ...result, stages: stages.summary() }
  } finally {
    await publisherModel.close().catch(() => {})
    await consumerModel.close().catch(() => {})
    await producerPool.end()
    await consumerPool.end()
  }
}

/** Opens the pool's connections before the clock starts, as a running service has them. */
async function warmPool(db: Knex, size: number): Promise<void> {
  await Promise.all(Array.from({ length: size }, () => db.transaction((trx) => trx.raw('select 1'))))
}

// ---------------------------------------------------------------- the run

type Scenario = 'plain' | 'bus' | 'busMetrics' | 'busTracing' | 'busTracingSampled' | 'rascal' | 'rabbitmqClient' | 'exactlyOnce' | 'exactlyOnceTracing' | 'dualWrite' | 'steadyPlain' | 'steadyBus'

/** One measurement, and for the multi-stage paths where the time went (p50/p99 between marks). */
type Run = Measure & { stages?: Record<string, { p50Ms: number; p99Ms: number }> }

const scenarios: Array<{ key: Scenario; label: string; run: (ctx: Context) => Promise<Run> }> = [
  { key: 'plain', label: 'plain amqplib', run: plainThroughput },
  { key: 'bus', label: 'bus', run: (ctx) => busThroughput(ctx) },
  { key: 'busMetrics', label: 'bus with metrics (shared/metrics)', run: (ctx) => busThroughput(ctx, 'metrics') },
  { key: 'busTracing', label: 'bus with tracing (OTLP, every trace)', run: (ctx) => busThroughput(ctx, 'tracing') },
  { key: 'busTracingSampled', label: `bus with tracing (${config.tracesSampled * 100} % sampled)`, run: (ctx) => busThroughput(ctx, 'sampledTracing') },
  { key: 'rascal', label: 'rascal', run: peer(rascalThroughput, 'bench-rascal') },
  { key: 'rabbitmqClient', label: 'rabbitmq-client', run: peer(rabbitmqClientThroughput, 'bench-rabbitmq-client') },
  { key: 'exactlyOnce', label: 'exactly-once (outbox + relay + inbox)', run: (ctx) => exactlyOnce(ctx) },
  { key: 'exactlyOnceTracing', label: 'exactly-once with tracing (OTLP)', run: (ctx) => exactlyOnce(ctx, true) },
  { key: 'dualWrite', label: 'dual write by hand (can lose/double)', run: dualWrite },
  { key: 'steadyPlain', label: `plain amqplib @ ${config.steadyRate}/s`, run: plainSteady },
  { key: 'steadyBus', label: `bus @ ${config.steadyRate}/s`, run: busSteady }
]

const round = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value) ? undefined : Math.round(value * 10 ** digits) / 10 ** digits

function describe(m: Measure) {
  return {
    messages: m.messages,
    msgPerSec: round(m.msgPerSec),
    publishMsgPerSec: round(m.publishMsgPerSec),
    p50Ms: round(m.p50Ms, 1),
    p99Ms: round(m.p99Ms, 1),
    seconds: round(m.seconds, 2),
    duplicates: m.duplicates,
    cpu: {
      benchProcessMsPerK: round(m.cpu.benchProcessMsPerK, 1),
      brokerMsPerK: round(m.cpu.brokerMsPerK, 1),
      databaseMsPerK: round(m.cpu.databaseMsPerK, 1),
      machineIdlePct: round(m.cpu.machineIdlePct, 1)
    }
  }
}

export async function runBusBenchmark(): Promise<object> {
  const env = readEnv()
  const ctx: Context = { namespace: uniqueNamespace('bench'), amqpUrl: env.amqpUrl, databaseUrl: env.databaseUrl }
  const management = new Management()
  const began = now()
  const runs: Record<Scenario, Run[]> = {
    plain: [], bus: [], busMetrics: [], busTracing: [], busTracingSampled: [], rascal: [], rabbitmqClient: [], exactlyOnce: [], exactlyOnceTracing: [], dualWrite: [], steadyPlain: [], steadyBus: []
  }
  const infoDb = createKnex(ctx.databaseUrl, 'public', { min: 0, max: 1 })
  const machine = await machineInfo(management, infoDb).finally(() => infoDb.destroy())
  console.log(
    `bus benchmark, namespace ${ctx.namespace}: N=${config.n} (plain, bus, rascal, rabbitmq-client), ` +
      `N=${config.nExactlyOnce} (exactly-once and dual write, BENCH_N_EXACTLY_ONCE), ${config.runs} run(s) each, confirm window ${config.confirmWindow} (rascal: ${config.rascalConfirmChannels} confirm channels), prefetch ${config.prefetch}, ` +
      `${config.transactionsInFlight} transactions in flight (${config.producerTransaction}), pools of ${config.poolSize}, ` +
      `inbox batches of ${config.inboxBatch} (${config.inboxConcurrency} at once${config.inboxPipelined ? ', pipelined' : ''}), exactly-once warmed up with ${config.warmUp}`
  )
  const cleanup = async () => {
    await management.deleteNamespace(ctx.namespace).catch((err) => console.error(`cleanup of queues failed: ${err.message}`))
    await dropNamespaceSchemas(ctx.namespace).catch((err) => console.error(`cleanup of schemas failed: ${err.message}`))
  }
  // Interrupted: still leave nothing behind on the broker or in the database.
  const onSignal = () => {
    console.error(`\ninterrupted; removing namespace ${ctx.namespace}`)
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    await declarePlain(ctx)
    await migrateExactlyOnce(ctx)
    for (let run = 1; run <= config.runs; run++) {
      for (const scenario of scenarios) {
        if (config.only && !config.only.includes(scenario.key)) continue
        const measure = await scenario.run(ctx)
        runs[scenario.key].push(measure)
        const d = describe(measure)
        console.log(
          `  run ${run}/${config.runs} ${scenario.label.padEnd(38)} ${String(d.msgPerSec).padStart(6)} msg/s` +
            `  p50 ${d.p50Ms} ms  p99 ${d.p99Ms} ms  cpu/1k msgs: this process ${d.cpu.benchProcessMsPerK} ms, ` +
            `broker ${d.cpu.brokerMsPerK ?? '?'} ms, database ${d.cpu.databaseMsPerK ?? '?'} ms, machine idle ${d.cpu.machineIdlePct ?? '?'} %` +
            `${measure.duplicates ? `  DUPLICATES ${measure.duplicates}` : ''}`
        )
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
  }

  const medians = Object.fromEntries(
    Object.entries(runs).map(([key, list]) => [key, medianMeasure(list)])
  ) as Record<Scenario, Measure>
  const ratioOf = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : a / b)
  const has = (key: Scenario) => runs[key].length > 0
  const throughputPeers = (['plain', 'rascal', 'rabbitmqClient'] as const).filter(has)
  const fastestPeer = throughputPeers.reduce<Scenario | undefined>(
    (best, key) => (best === undefined || medians[key].msgPerSec > medians[best].msgPerSec ? key : best), undefined
  )
  const ratios = {
    busOverPlain: ratioOf(medians.bus.msgPerSec, medians.plain.msgPerSec),
    exactlyOnceOverPlain: ratioOf(medians.exactlyOnce.msgPerSec, medians.plain.msgPerSec),
    busOverFastestPeer: fastestPeer ? ratioOf(medians.bus.msgPerSec, medians[fastestPeer].msgPerSec) : NaN,
    busCpuOverPlain: ratioOf(medians.bus.cpu.benchProcessMsPerK, medians.plain.cpu.benchProcessMsPerK),
    busMetricsOverBus: ratioOf(medians.busMetrics.msgPerSec, medians.bus.msgPerSec),
    busMetricsCpuOverBus: ratioOf(medians.busMetrics.cpu.benchProcessMsPerK, medians.bus.cpu.benchProcessMsPerK),
    busTracingOverBus: ratioOf(medians.busTracing.msgPerSec, medians.bus.msgPerSec),
    busTracingCpuOverBus: ratioOf(medians.busTracing.cpu.benchProcessMsPerK, medians.bus.cpu.benchProcessMsPerK),
    busTracingSampledOverBus: ratioOf(medians.busTracingSampled.msgPerSec, medians.bus.msgPerSec),
    busTracingSampledCpuOverBus: ratioOf(medians.busTracingSampled.cpu.benchProcessMsPerK, medians.bus.cpu.benchProcessMsPerK),
    exactlyOnceTracingOverExactlyOnce: ratioOf(medians.exactlyOnceTracing.msgPerSec, medians.exactlyOnce.msgPerSec),
    exactlyOnceTracingCpuOverExactlyOnce: ratioOf(medians.exactlyOnceTracing.cpu.benchProcessMsPerK, medians.exactlyOnce.cpu.benchProcessMsPerK),
    rascalOverPlain: ratioOf(medians.rascal.msgPerSec, medians.plain.msgPerSec),
    rascalCpuOverPlain: ratioOf(medians.rascal.cpu.benchProcessMsPerK, medians.plain.cpu.benchProcessMsPerK),
    rabbitmqClientOverPlain: ratioOf(medians.rabbitmqClient.msgPerSec, medians.plain.msgPerSec),
    rabbitmqClientCpuOverPlain: ratioOf(medians.rabbitmqClient.cpu.benchProcessMsPerK, medians.plain.cpu.benchProcessMsPerK),
    exactlyOnceOverDualWrite: ratioOf(medians.exactlyOnce.msgPerSec, medians.dualWrite.msgPerSec),
    exactlyOnceP99OverDualWrite: ratioOf(medians.exactlyOnce.p99Ms, medians.dualWrite.p99Ms)
  }
  const met = {
    busOverPlain: ratios.busOverPlain >= goals.busOverPlain,
    exactlyOnceOverPlain: ratios.exactlyOnceOverPlain >= goals.exactlyOnceOverPlain,
    busOverFastestPeer: ratios.busOverFastestPeer >= goals.busOverFastestPeer,
    busCpuOverPlain: ratios.busCpuOverPlain <= goals.busCpuOverPlain,
    exactlyOnceOverDualWrite: ratios.exactlyOnceOverDualWrite >= goals.exactlyOnceOverDualWrite,
    exactlyOnceP99OverDualWrite: ratios.exactlyOnceP99OverDualWrite <= goals.exactlyOnceP99OverDualWrite
  }

  const table = new Table({
    style: { head: [], border: [] },
    head: ['path', 'N', 'msg/s', 'publish msg/s', 'p50 ms', 'p99 ms', 'vs plain', 'goal', 'CPU ms / 1k msgs: bench, rabbitmq, postgres', 'CPU vs plain'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'right']
  })
  const ratioCell = (r: number) => `${(r * 100).toFixed(0)} %`
  for (const scenario of scenarios) {
    if (runs[scenario.key].length === 0) continue
    const d = describe(medians[scenario.key])
    const ratio = has('plain') ? ratioOf(medians[scenario.key].msgPerSec, medians.plain.msgPerSec) : NaN
    const cpuRatio = has('plain') ? ratioOf(medians[scenario.key].cpu.benchProcessMsPerK, medians.plain.cpu.benchProcessMsPerK) : NaN
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
    const goal =
      scenario.key === 'bus'
        ? `>= 90 % of plain: ${verdict(met.busOverPlain)}`
        : scenario.key === 'exactlyOnce'
          ? `>= 50 % of plain: ${verdict(met.exactlyOnceOverPlain)}`
          : ''
    const isThroughput = ['plain', 'bus', 'busMetrics', 'busTracing', 'busTracingSampled', 'rascal', 'rabbitmqClient'].includes(scenario.key)
    table.push([
      scenario.label, d.messages, d.msgPerSec ?? '', d.publishMsgPerSec ?? '', d.p50Ms ?? '', d.p99Ms ?? '',
      scenario.key === 'plain' ? '100 %' : Number.isFinite(ratio) ? ratioCell(ratio) : '', goal,
      [d.cpu.benchProcessMsPerK, d.cpu.brokerMsPerK, d.cpu.databaseMsPerK].map((v) => v ?? '?').join(', '),
      isThroughput && Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : ''
    ])
  }
  const label = (key: Scenario | undefined) => scenarios.find((sc) => sc.key === key)?.label ?? '?'
  const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a (not run)')
  const goalLines = [
    `bus / fastest of plain amqplib, rascal, rabbitmq-client (${label(fastestPeer)}): ${x(ratios.busOverFastestPeer)}, ` +
      `goal >= ${goals.busOverFastestPeer}x: ${met.busOverFastestPeer ? 'met' : 'MISSED'}`,
    `bus CPU per 1k msgs / plain amqplib's: ${x(ratios.busCpuOverPlain)}, goal <= ${goals.busCpuOverPlain}x: ${met.busCpuOverPlain ? 'met' : 'MISSED'}`,
    `bus with metrics / bus: ${x(ratios.busMetricsOverBus)} msg/s, ${x(ratios.busMetricsCpuOverBus)} CPU per 1k msgs (the metrics' overhead)`,
    `bus with tracing / bus: ${x(ratios.busTracingOverBus)} msg/s, ${x(ratios.busTracingCpuOverBus)} CPU per 1k msgs (tracing's overhead, goal <= 5 %)`,
    `bus with ${config.tracesSampled * 100} % of traces sampled / bus: ${x(ratios.busTracingSampledOverBus)} msg/s, ${x(ratios.busTracingSampledCpuOverBus)} CPU per 1k msgs (goal <= 5 %)`,
    `exactly-once with tracing / exactly-once: ${x(ratios.exactlyOnceTracingOverExactlyOnce)} msg/s, ${x(ratios.exactlyOnceTracingCpuOverExactlyOnce)} CPU per 1k msgs (goal <= 5 %)`,
    `rascal / plain: ${x(ratios.rascalOverPlain)} msg/s, ${x(ratios.rascalCpuOverPlain)} CPU; ` +
      `rabbitmq-client / plain: ${x(ratios.rabbitmqClientOverPlain)} msg/s, ${x(ratios.rabbitmqClientCpuOverPlain)} CPU`,
    `exactly-once / dual write: ${x(ratios.exactlyOnceOverDualWrite)} msg/s, goal >= ${goals.exactlyOnceOverDualWrite}x: ` +
      `${met.exactlyOnceOverDualWrite ? 'met' : 'MISSED'}; p99 ${x(ratios.exactlyOnceP99OverDualWrite)}, ` +
      `goal <= ${goals.exactlyOnceP99OverDualWrite}x: ${met.exactlyOnceP99OverDualWrite ? 'met' : 'MISSED'}`
  ]
  const stageLines: string[] = []
  for (const key of ['exactlyOnce', 'dualWrite'] as const) {
    const last = runs[key].at(-1)?.stages
    if (!last) continue
    stageLines.push(`${label(key)}, where the time goes (last run, p50 / p99 ms between marks):`)
    for (const [span, { p50Ms, p99Ms }] of Object.entries(last)) stageLines.push(`  ${span.padEnd(52)} ${p50Ms} / ${p99Ms}`)
  }
  const seconds = (now() - began) / 1000
  console.log(`\nmedians of ${config.runs} run(s); msg/s is first publish (first transaction) to last handled;`)
  console.log('latency is publish (commit, for exactly-once) to the handler done (its effect committed);')
  console.log("publish msg/s is first publish to last confirm (exactly-once: first to last commit); CPU is per 1,000 messages")
  console.log(table.toString())
  for (const line of goalLines) console.log(line)
  if (has('dualWrite')) {
    console.log(
      'the dual write has no outbox and no inbox: an event is lost if the process dies between commit and publish ' +
        '(or the publish fails), and an effect is doubled if it dies between the effect\'s commit and the ack'
    )
  }
  for (const line of stageLines) console.log(line)
  if (config.nExactlyOnce !== config.n) {
    console.log(
      `exactly-once ran ${config.nExactlyOnce} messages (BENCH_N_EXACTLY_ONCE, smaller to keep the run short), ` +
        `the others ${config.n}; msg/s compare as rates`
    )
  }
  console.log(`total ${seconds.toFixed(0)} s`)

  const report = {
    benchmark: 'bus',
    date: new Date().toISOString(),
    namespace: ctx.namespace,
    machine,
    config,
    goals,
    ratios: Object.fromEntries(Object.entries(ratios).map(([key, r]) => [key, round(r, 3)])),
    fastestPeer,
    met,
    stages: Object.fromEntries((['exactlyOnce', 'dualWrite'] as const).map((key) => [key, runs[key].map((r) => r.stages)])),
    medians: Object.fromEntries(Object.entries(medians).map(([key, m]) => [key, describe(m)])),
    runs: Object.fromEntries(Object.entries(runs).map(([key, list]) => [key, list.map(describe)])),
    totalSeconds: round(seconds, 1)
  }
  if (config.only) {
    console.log('BENCH_ONLY is set: a partial run, bench/results/bus.json left as it was')
    return report
  }
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'bus.json')
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`written to ${file}`)
  return report
}
