/**
 * `npm run bench -- import`: a 100,000-row bulk import end to end (POST /imports with the CSV, to the
 * import.completed notice on the bus), against, in the same run, the floor PostgreSQL gives: the same rows
 * inserted by one multi-row insert (unnest) into a copy of the catalog's products table, and the floor the
 * broker gives: the same number of product.created messages published alone, with confirms. BENCH_RUNS
 * runs, interleaved, medians reported. Every guarantee is on: staging in the upload's transaction, iterator
 * steps with the cursor and outbox rows, inbox + upsert + product.* outbox rows + counter per chunk, the
 * relay publishing every product event. CPU per 1,000 rows of this process (catalog, reference, the
 * benchmark), PostgreSQL's and RabbitMQ's processes (every user of them on the machine: other work adds to
 * those two). BENCH_IMPORT_PROFILE=1 prints where PostgreSQL's time went (sampled pg_stat_activity).
 */
import { randomUUID } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import amqp from 'amqplib'
import { createApp as createCatalog } from '../services/catalog/app.ts'
import { createApp as createReference } from '../services/reference/app.ts'
import { eventProperties } from '../shared/bus/message.ts'
import { names } from '../shared/bus/names.ts'
import { PRODUCT_CREATED } from '../shared/contracts/index.ts'
import { readEnv } from '../shared/config/env.ts'
import { EventTap } from '../shared/testing/event-tap.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../shared/testing/index.ts'
import { csvOf, generatedRows, upload } from '../test/import/support.ts'
import { cpuSample, cpuSince } from './lib/cpu.ts'
import { intFromEnv } from './lib/env.ts'
import { PgActivitySampler } from './lib/pg-activity.ts'
import { median } from './lib/stats.ts'

const config = {
  rows: intFromEnv('BENCH_IMPORT_ROWS', 100_000),
  runs: intFromEnv('BENCH_RUNS', 3),
  chunkRows: intFromEnv('BENCH_IMPORT_CHUNK_ROWS', 500),
  workers: intFromEnv('BENCH_IMPORT_WORKERS', 4),
  maxInFlight: intFromEnv('BENCH_IMPORT_MAX_IN_FLIGHT', 16),
  /** 1: sample pg_stat_activity every 10 ms during each import and print where the database's time went */
  profile: intFromEnv('BENCH_IMPORT_PROFILE', 0) === 1
}

interface Run {
  /** POST until 202: parsing, staging the rows, the job, in one transaction */
  acceptMs: number
  /** POST until the last chunk committed (polled every 50 ms by the benchmark, not by the import) */
  lastChunkCommittedMs: number
  /** POST until the import.completed notice is on the bus */
  completionMs: number
  rowsPerSecond: number
  /** this process's CPU (the catalog runs in it) per 1,000 rows, ms */
  cpuMsPer1000: number
  /** PostgreSQL's processes' CPU per 1,000 rows during the import, ms (every user of the local server: other work adds to it) */
  databaseCpuMsPer1000?: number
  /** RabbitMQ's CPU per 1,000 rows during the import, ms (likewise) */
  brokerCpuMsPer1000?: number
  /** share of the machine idle during the import, % */
  machineIdlePct?: number
  /** PostgreSQL's CPU per 1,000 rows during the floor's statement, ms */
  floorDatabaseCpuMsPer1000?: number
  floorMs: number
  floorRowsPerSecond: number
  ratio: number
  /**
   * The other floor: the contract's one product.created per product, published alone (the same bodies and
   * properties the relay sends, through the catalog's publisher, confirms awaited, to the same sink), with no
   * database at all. The import cannot end sooner than this on the same machine.
   */
  publishFloorMs: number
  /** PostgreSQL's floor over the publish floor: the best ratio an import publishing every event could reach */
  publishFloorRatio: number
  publishFloorBrokerCpuMsPer1000?: number
  publishFloorProcessCpuMsPer1000: number
}

export async function runImportBenchmark(): Promise<object> {
  const ns = uniqueNamespace('bench_import')
  const env = testEnv(ns)
  console.log(`import benchmark, namespace ${ns}: ${config.rows} rows, ${config.runs} run(s), chunks of ${config.chunkRows}, ${config.workers} workers, ${config.maxInFlight} chunks in flight; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`)
  let reference: RunningApp | undefined
  let catalog: RunningApp | undefined
  let tap: EventTap | undefined
  let sink: amqp.ChannelModel | undefined
  const runs: Run[] = []
  try {
    reference = await startApp(createReference(env))
    catalog = await startApp(createCatalog(env, { importChunkRows: config.chunkRows, importWorkers: config.workers, importMaxInFlight: config.maxInFlight }))
    tap = await EventTap.open(ns, ['import.completed'])
    sink = await productEventSink(ns)
    const db = catalog.app.get('db')
    const schema = catalog.app.get('schema')
    await db.raw('create table ??.floor_products (like ??.products including all)', [schema, schema])
    for (let run = 1; run <= config.runs; run++) {
      const seller = identity('seller')
      const { rows } = generatedRows(`r${run}`, config.rows)
      const csv = csvOf(rows)

      const profiler = config.profile ? new PgActivitySampler(env.databaseUrl, ns) : undefined
      await profiler?.start()
      const machineBefore = cpuSample()
      const cpuBefore = process.cpuUsage()
      const started = performance.now()
      const accepted = await upload(catalog.url, seller.token, csv)
      if (accepted.status !== 202) throw new Error(`upload answered ${accepted.status}: ${JSON.stringify(accepted.body)}`)
      const acceptMs = performance.now() - started
      // where the time goes: the last chunk's commit (seen in the database) versus the notice on the bus,
      // which the outbox relay publishes after every product event written before it
      let committedMs = 0
      const watch = setInterval(() => {
        if (committedMs) return
        void db.withSchema(schema).table('imports').where({ id: accepted.body.id, status: 'completed' }).first('id').then((row: unknown) => {
          if (row && !committedMs) committedMs = performance.now() - started
        })
      }, 50)
      await tap.next((e) => e.payload.importId === accepted.body.id, { timeoutMs: 600_000, what: 'import.completed' })
      clearInterval(watch)
      const completionMs = performance.now() - started
      const cpu = process.cpuUsage(cpuBefore)
      const machine = cpuSince(machineBefore, config.rows)
      if (profiler) console.table(await profiler.stop())

      // the floor: the same rows, one statement, into a table like the catalog's (indexes, constraints included)
      await db.raw('truncate ??.floor_products', [schema])
      const floorMachineBefore = cpuSample()
      const floorStarted = performance.now()
      await db.raw(
        `insert into ??.floor_products (id, "sellerId", "parentId", sku, title, description, price, currency, stock, version, "createdAt", "updatedAt")
         select gen_random_uuid(), ?, null, t.sku, t.title, t.description, t.price, t.currency, t.stock, 1, now(), now()
         from unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::int[]) as t(sku, title, description, price, currency, stock)`,
        [schema, seller.id, rows.map((r) => r.sku), rows.map((r) => r.title), rows.map((r) => r.description), rows.map((r) => Number(r.price)), rows.map((r) => r.currency), rows.map((r) => Number(r.stock))]
      )
      const floorMs = performance.now() - floorStarted
      const floorMachine = cpuSince(floorMachineBefore, config.rows)
      const publishFloor = await publishAlone(catalog, ns, seller.id, rows.length)
      const result: Run = {
        acceptMs: Math.round(acceptMs),
        lastChunkCommittedMs: Math.round(committedMs),
        completionMs: Math.round(completionMs),
        rowsPerSecond: Math.round(config.rows / (completionMs / 1000)),
        cpuMsPer1000: Math.round(((cpu.user + cpu.system) / 1000 / config.rows) * 1000 * 10) / 10,
        databaseCpuMsPer1000: machine.databaseMsPerK,
        brokerCpuMsPer1000: machine.brokerMsPerK,
        machineIdlePct: machine.machineIdlePct,
        floorDatabaseCpuMsPer1000: floorMachine.databaseMsPerK,
        floorMs: Math.round(floorMs),
        floorRowsPerSecond: Math.round(config.rows / (floorMs / 1000)),
        ratio: Math.round((floorMs / completionMs) * 1000) / 1000,
        publishFloorMs: Math.round(publishFloor.ms),
        publishFloorRatio: Math.round((floorMs / publishFloor.ms) * 1000) / 1000,
        publishFloorBrokerCpuMsPer1000: publishFloor.cpu.brokerMsPerK,
        publishFloorProcessCpuMsPer1000: publishFloor.cpu.benchProcessMsPerK
      }
      runs.push(result)
      console.log(`run ${run}: ${JSON.stringify(result)}`)
    }
  } finally {
    await tap?.close()
    await sink?.close().catch(() => {})
    await catalog?.stop()
    await reference?.stop()
    await new Management().deleteNamespace(ns).catch(() => {})
    await dropNamespaceSchemas(ns).catch(() => {})
  }
  const med = (key: keyof Run) => median(runs.map((r) => r[key] ?? NaN))
  const summary = {
    rows: config.rows,
    runs: config.runs,
    chunkRows: config.chunkRows,
    workers: config.workers,
    maxInFlight: config.maxInFlight,
    median: {
      acceptMs: med('acceptMs'),
      lastChunkCommittedMs: med('lastChunkCommittedMs'),
      completionMs: med('completionMs'),
      rowsPerSecond: med('rowsPerSecond'),
      cpuMsPer1000Rows: med('cpuMsPer1000'),
      databaseCpuMsPer1000Rows: med('databaseCpuMsPer1000'),
      brokerCpuMsPer1000Rows: med('brokerCpuMsPer1000'),
      machineIdlePct: med('machineIdlePct'),
      floorDatabaseCpuMsPer1000Rows: med('floorDatabaseCpuMsPer1000'),
      floorMs: med('floorMs'),
      floorRowsPerSecond: med('floorRowsPerSecond'),
      ratioToFloor: med('ratio'),
      publishFloorMs: med('publishFloorMs'),
      publishFloorRatio: med('publishFloorRatio'),
      publishFloorBrokerCpuMsPer1000Rows: med('publishFloorBrokerCpuMsPer1000'),
      publishFloorProcessCpuMsPer1000Rows: med('publishFloorProcessCpuMsPer1000')
    },
    goal: 'ratioToFloor >= 0.3',
    each: runs
  }
  console.table([summary.median])
  return summary
}

/**
 * `count` product.created messages as the relay would send them (bodies and properties made beforehand, not
 * timed), published through the catalog's own publisher with confirms, at most 8,000 unconfirmed (what 16
 * chunks of 500 in the outbox give the relay at once).
 */
async function publishAlone(catalog: RunningApp, namespace: string, sellerId: string, count: number) {
  const publisher = catalog.app.get('bus').publisher
  const exchange = names.eventsExchange(namespace)
  const now = new Date().toISOString()
  const messages = Array.from({ length: count }, (_, i) => {
    const payload = { productId: randomUUID(), sellerId, parentId: null, title: `Item ${i}, "quoted"`, description: `Line one\nline two of ${i}`, price: 100 + i, currency: 'EUR', stock: i % 50, version: 1, updatedAt: now, createdAt: now }
    return { payload, properties: eventProperties(PRODUCT_CREATED, { requestId: 'publish-floor' }, { appId: 'catalog', namespace }, payload) }
  })
  const before = cpuSample()
  const started = performance.now()
  for (let from = 0; from < count; from += 8_000) {
    await Promise.all(messages.slice(from, from + 8_000).map((m) => publisher.publishRaw({ exchange, routingKey: PRODUCT_CREATED, body: Buffer.from(JSON.stringify(m.payload)), properties: m.properties })))
  }
  return { ms: performance.now() - started, cpu: cpuSince(before, count) }
}

/**
 * Stands for the product events' consumers (storefront, search): a queue bound to product.* that keeps
 * nothing (x-max-length 0, the broker drops each message once routed). Without a binding every one of the
 * 100,000 events came back unroutable and was logged as a warning, most of the process's CPU in the end.
 */
async function productEventSink(namespace: string): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(readEnv().amqpUrl)
  const channel = await connection.createChannel()
  const exchange = names.eventsExchange(namespace)
  await channel.assertExchange(exchange, 'topic', { durable: true })
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, arguments: { 'x-max-length': 0 } })
  await channel.bindQueue(queue, exchange, 'product.*')
  return connection
}
