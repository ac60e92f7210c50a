/**
 * `npm run bench -- checkout`: the price of exactly-once decoupling.
 *
 * Bazaar: the card provider, reference, orders, payments and fulfilment each in a process of its own (as `npm
 * start` runs them). Each order is `POST /orders` (one item of a random seller's product, stock reserved), then
 * `POST /payments` with `tok_ok` (202; the charge runs as a job), and it counts as done when its `invoice.issued`
 * reaches this process from the broker: the capture, order.paid, the stock commit, the delivery and the
 * invoice, each a transaction of inbox, state and outbox in its own service.
 * Baseline, in the same run: one process doing the same steps directly in one request
 * (bench/lib/checkout-monolith.ts: reserve and place, charge the same provider, then payment, stock, delivery,
 * invoice with the seller's next number), no events.
 * Both closed loops of CHECKOUT_BENCH_CONCURRENCY (32) clients for CHECKOUT_BENCH_ORDERS (2,000) orders after a
 * warm-up of 100, over CHECKOUT_BENCH_SELLERS (20) sellers; the provider answers at once. Reported: orders per
 * second, p50/p99 from the first request to the invoice, CPU per order of every process involved (the services,
 * PostgreSQL, RabbitMQ), and the ratios.
 */
import { randomUUID } from 'node:crypto'
import amqp from 'amqplib'
import { names } from '../shared/bus/names.ts'
import { readEnv } from '../shared/config/env.ts'
import { createKnex, schemaName, type Knex } from '../shared/db/database.ts'
import { dropNamespaceSchemas, Management } from '../shared/testing/index.ts'
import { identity } from '../shared/testing/tokens.ts'
import { TICK_MS, ticksByPid, ticksOf } from './lib/cpu.ts'
import { intFromEnv } from './lib/env.ts'
import { HttpPool } from './lib/http-pool.ts'
import { machineInfo, type MachineInfo } from './lib/machine.ts'
import { pooled } from './lib/pace.ts'
import { startServiceProcess, type ServiceProcess } from './lib/service-process.ts'
import { now, percentile } from './lib/stats.ts'

interface SideResult {
  orders: number
  seconds: number
  ordersPerSec: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** CPU of the side's own processes, PostgreSQL and RabbitMQ, per order */
  cpuMsPerOrder: { services: number; database: number; broker: number; total: number }
  /** the services' share, process by process: where the time goes */
  cpuMsPerOrderByProcess: Record<string, number>
}

export interface CheckoutBenchmarkResult {
  machine: MachineInfo
  concurrency: number
  sellers: number
  bazaar: SideResult
  monolith: SideResult
  /** bazaar / monolith */
  ratio: { throughput: number; p50: number; p99: number; cpuPerOrder: number }
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

export async function runCheckoutBenchmark(): Promise<CheckoutBenchmarkResult> {
  const orders = intFromEnv('CHECKOUT_BENCH_ORDERS', 2_000)
  const concurrency = intFromEnv('CHECKOUT_BENCH_CONCURRENCY', 32)
  const sellers = intFromEnv('CHECKOUT_BENCH_SELLERS', 20)
  const warmup = 100
  const namespace = `bench_checkout_${randomUUID().slice(0, 6)}`
  const env = readEnv({ ...process.env, BAZAAR_NAMESPACE: namespace })
  const management = new Management()
  const db = createKnex(env.databaseUrl, 'public', { min: 0, max: 4 })
  const base = 3600 + Math.floor(Math.random() * 300)
  const ports = { provider: base, reference: base + 1, orders: base + 2, payments: base + 3, fulfilment: base + 4, monolith: base + 5 }
  const providerUrl = `http://127.0.0.1:${ports.provider}`
  const common = { BAZAAR_NAMESPACE: namespace, CARD_PROVIDER_URL: providerUrl, ORDER_PAYMENT_TIMEOUT: '1h' }
  const processes: ServiceProcess[] = []
  const invoices = new InvoiceWatch()
  try {
    const machine = await machineInfo(management, db)
    processes.push(await startServiceProcess('card-provider', 'services/card-provider/index.ts', ports.provider, { ...common, CARD_PROVIDER_PORT: String(ports.provider) }))
    processes.push(await startServiceProcess('reference', 'services/reference/index.ts', ports.reference, { ...common, REFERENCE_PORT: String(ports.reference) }))
    const bazaar = await Promise.all(
      (['orders', 'payments', 'fulfilment'] as const).map((name) =>
        startServiceProcess(name, `services/${name}/index.ts`, ports[name], { ...common, [`${name.toUpperCase()}_PORT`]: String(ports[name]) })
      )
    )
    processes.push(...bazaar)
    const monolith = await startServiceProcess('monolith', 'bench/lib/checkout-monolith.ts', ports.monolith, { ...common, MONOLITH_PORT: String(ports.monolith) })
    processes.push(monolith)

    const products = Array.from({ length: sellers }, () => ({ productId: randomUUID(), sellerId: randomUUID() }))
    await seed(db, namespace, products)
    await invoices.open(env.amqpUrl, namespace)
    const buyer = identity('buyer', 'Bench Buyer')
    const pick = () => products[Math.floor(Math.random() * products.length)]!.productId

    const ordersApi = new HttpPool(`http://127.0.0.1:${ports.orders}`, concurrency)
    const paymentsApi = new HttpPool(`http://127.0.0.1:${ports.payments}`, concurrency)
    const bazaarOrder = async () => {
      const placed = await ordersApi.send('POST', '/orders', { token: buyer.token, body: { items: [{ productId: pick(), quantity: 1 }] } })
      const orderId = JSON.parse(placed.text).id as string
      const issued = invoices.waitFor(orderId)
      await paymentsApi.send('POST', '/payments', { token: buyer.token, body: { orderId, card: { token: 'tok_ok' } } })
      await issued
    }
    const monolithApi = new HttpPool(monolith.url, concurrency)
    const monolithOrder = async () => {
      await monolithApi.send('POST', '/checkout', { body: { buyerId: buyer.id, productId: pick(), quantity: 1, token: 'tok_ok' } })
    }

    console.log(`warming up (${warmup} orders each), then ${orders} orders each with ${concurrency} clients`)
    await pooled(warmup, concurrency, bazaarOrder)
    await pooled(warmup, concurrency, monolithOrder)
    const result = {
      bazaar: await measure(orders, concurrency, bazaarOrder, [...bazaar, processes[0]!]),
      monolith: await measure(orders, concurrency, monolithOrder, [monolith, processes[0]!])
    }
    ordersApi.close()
    paymentsApi.close()
    monolithApi.close()
    const report: CheckoutBenchmarkResult = {
      machine,
      concurrency,
      sellers,
      ...result,
      ratio: {
        throughput: round(result.bazaar.ordersPerSec / result.monolith.ordersPerSec),
        p50: round(result.bazaar.p50Ms / result.monolith.p50Ms),
        p99: round(result.bazaar.p99Ms / result.monolith.p99Ms),
        cpuPerOrder: round(result.bazaar.cpuMsPerOrder.total / result.monolith.cpuMsPerOrder.total)
      }
    }
    print(report)
    return report
  } finally {
    await invoices.close()
    for (const p of processes.reverse()) await p.stop().catch(() => {})
    await db.destroy()
    await management.deleteNamespace(namespace).catch(() => {})
    await dropNamespaceSchemas(namespace).catch(() => {})
  }
}

/** Products with stock enough for every order, in orders' projection (as product.created would leave them) and in the monolith's table. */
async function seed(db: Knex, namespace: string, products: Array<{ productId: string; sellerId: string }>): Promise<void> {
  const stock = 1_000_000_000
  await db.withSchema(schemaName(namespace, 'orders')).table('products').insert(products.map((p) => ({
    ...p, parentId: null, title: 'Bench goods', description: '', price: 1_000, currency: 'EUR', stock, version: 1, updatedAt: new Date().toISOString()
  })))
  await db.withSchema(schemaName(namespace, 'monolith')).table('products').insert(products.map((p) => ({ id: p.productId, sellerId: p.sellerId, price: 1_000, stock })))
}

async function measure(orders: number, concurrency: number, order: () => Promise<void>, processes: ServiceProcess[]): Promise<SideResult> {
  const latencies: number[] = []
  const pids = processes.map((p) => p.child.pid!)
  const cpuOf = () => ({ byPid: pids.map((pid) => ticksOf(pid) ?? 0), services: pids.reduce((sum, pid) => sum + (ticksOf(pid) ?? 0), 0), database: ticksByPid('postgres'), broker: ticksByPid('beam.smp') })
  const sum = (m: Map<number, number>, start: Map<number, number>) => [...m].reduce((s, [pid, t]) => s + t - (start.get(pid) ?? 0), 0)
  const before = cpuOf()
  const start = now()
  await pooled(orders, concurrency, async () => {
    const t0 = now()
    await order()
    latencies.push(now() - t0)
  })
  const seconds = (now() - start) / 1000
  const after = cpuOf()
  const perOrder = (ticks: number) => round((ticks * TICK_MS) / orders, 3)
  const services = perOrder(after.services - before.services)
  const database = perOrder(sum(after.database, before.database))
  const broker = perOrder(sum(after.broker, before.broker))
  latencies.sort((a, b) => a - b)
  return {
    orders,
    seconds: round(seconds),
    ordersPerSec: round(orders / seconds, 1),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(latencies[latencies.length - 1]!, 1),
    cpuMsPerOrder: { services, database, broker, total: round(services + database + broker, 3) },
    cpuMsPerOrderByProcess: Object.fromEntries(processes.map((p, i) => [p.name, perOrder(after.byPid[i]! - before.byPid[i]!)]))
  }
}

/** invoice.issued as it leaves fulfilment: resolves each order's waiter when its invoice is issued. */
class InvoiceWatch {
  private connection?: amqp.ChannelModel
  private readonly waiting = new Map<string, () => void>()
  private readonly seen = new Set<string>()

  async open(amqpUrl: string, namespace: string): Promise<void> {
    this.connection = await amqp.connect(amqpUrl)
    const channel = await this.connection.createChannel()
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true })
    await channel.bindQueue(queue, names.eventsExchange(namespace), 'invoice.issued')
    await channel.consume(queue, (message) => {
      if (!message) return
      const { orderId } = JSON.parse(message.content.toString('utf8')) as { orderId: string }
      const resolve = this.waiting.get(orderId)
      if (resolve) {
        this.waiting.delete(orderId)
        resolve()
      } else this.seen.add(orderId)
    }, { noAck: true })
  }

  waitFor(orderId: string): Promise<void> {
    if (this.seen.delete(orderId)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no invoice.issued for order ${orderId} within 60 s`)), 60_000)
      this.waiting.set(orderId, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => {})
  }
}

function print(report: CheckoutBenchmarkResult): void {
  const row = (name: string, side: SideResult) =>
    `${name.padEnd(34)} ${String(side.ordersPerSec).padStart(8)} ${String(side.p50Ms).padStart(8)} ${String(side.p99Ms).padStart(8)} ${String(side.cpuMsPerOrder.total).padStart(10)}`
  console.log(`${'checkout, order to invoice issued'.padEnd(34)} ${'orders/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/ord'.padStart(10)}`)
  console.log(row('Bazaar (5 processes, events)', report.bazaar))
  console.log(row('one process, direct calls', report.monolith))
  console.log(`CPU ms per order by process: Bazaar ${JSON.stringify(report.bazaar.cpuMsPerOrderByProcess)}, direct ${JSON.stringify(report.monolith.cpuMsPerOrderByProcess)}, PostgreSQL ${report.bazaar.cpuMsPerOrder.database} / ${report.monolith.cpuMsPerOrder.database}, RabbitMQ ${report.bazaar.cpuMsPerOrder.broker} / ${report.monolith.cpuMsPerOrder.broker}`)
  console.log(`ratio Bazaar/direct: throughput ${report.ratio.throughput}x, p50 ${report.ratio.p50}x, p99 ${report.ratio.p99}x, CPU per order ${report.ratio.cpuPerOrder}x`)
}
