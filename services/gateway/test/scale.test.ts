import { expect } from 'chai'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import knex from 'knex'
import type { Bus } from '../../../shared/bus/bus.ts'
import { MAINTENANCE_SCHEDULED, ORDER_CREATED } from '../../../shared/contracts/index.ts'
import { schemaName } from '../../../shared/db/database.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor } from '../../../shared/testing/index.ts'
import { runAppliance } from '../../../cli/appliance/index.ts'
import { createApp } from '../app.ts'
import { anOrder, listen, opened, producer, quickGateway, registerAppliance, type Listener } from './support.ts'

describe('gateway: restarts and several instances', function () {
  const ns = uniqueNamespace('gateway-scale')
  const env = testEnv(ns)
  const stops: Array<() => Promise<void>> = []
  const listeners: Listener[] = []
  let bus: Bus
  let out: string
  const db = knex({ client: 'pg', connection: env.databaseUrl, pool: { min: 0, max: 2 } })

  before(async () => {
    bus = await producer(env)
    out = await mkdtemp(join(tmpdir(), 'bazaar-receipts-'))
  })

  after(async () => {
    for (const listener of listeners) listener.close()
    for (const stop of stops.reverse()) await stop().catch(() => {})
    await bus?.stop()
    await db.destroy()
    await rm(out, { recursive: true, force: true })
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('the gateway restarts while orders flow: every order is printed once and acknowledged once', async () => {
    const first = await startApp(createApp(env, quickGateway))
    stops.push(() => first.stop())
    const seller = identity('seller')
    const buyer = identity('buyer')
    const appliance = await registerAppliance(first.url, seller.token)
    const printer = runAppliance({ url: first.url, token: appliance.token, out, stderr: new PassThrough().resume(), minRetryMs: 50, maxRetryMs: 1_000 })
    stops.push(() => printer.stop())
    const printed = new Map<string, number>()
    const acked = new Set<string>()
    printer.on('printed', (order) => printed.set(order.orderId, (printed.get(order.orderId) ?? 0) + 1))
    printer.on('acked', (orderId) => acked.add(orderId))
    await new Promise<void>((resolve) => printer.once('connected', resolve))

    const orders = Array.from({ length: 40 }, () => anOrder(seller.id, buyer.id))
    let restarted: Awaited<ReturnType<typeof startApp>> | undefined
    for (const [i, order] of orders.entries()) {
      await bus.publisher.publish(ORDER_CREATED, order)
      if (i === 15) {
        await first.stop() // mid-flow: the appliance's stream drops, orders keep being published
        stops.pop()
      }
      if (i === 25) {
        restarted = await startApp(createApp(env, quickGateway), Number(new URL(first.url).port))
        stops.push(() => restarted!.stop())
      }
    }
    await waitFor(() => acked.size === orders.length, { timeoutMs: 30_000, what: `all ${orders.length} orders acknowledged` })
    expect([...printed.values()].every((n) => n === 1), 'each order printed once').to.equal(true)
    expect(printed.size).to.equal(orders.length)
    expect((await readdir(out)).filter((f) => f.endsWith('.txt')).sort()).to.deep.equal(orders.map((o) => `${o.orderId}.txt`).sort())
    const receipts = await db(`${schemaName(ns, 'gateway')}.receipts`).where({ appliance_id: appliance.id }).select('order_id')
    expect(receipts.map((r) => r.order_id).sort()).to.deep.equal(orders.map((o) => o.orderId).sort())
    await printer.stop()
    await restarted!.stop()
  })

  it('two instances side by side each deliver to their own clients, with the same ids, and resume each other', async () => {
    const a = await startApp(createApp(env, quickGateway))
    stops.push(() => a.stop())
    const b = await startApp(createApp(env, quickGateway))
    stops.push(() => b.stop())
    const seller = identity('seller')
    const buyer = identity('buyer')
    const appliance = await registerAppliance(a.url, seller.token)
    const track = (l: Listener) => (listeners.push(l), l)
    const printerOnA = track(listen(a.url, appliance.token))
    const buyerOnB = track(listen(b.url, buyer.token))
    const sellerOnB = track(listen(b.url, seller.token))
    await Promise.all([opened(printerOnA), opened(buyerOnB), opened(sellerOnB)])

    const order = anOrder(seller.id, buyer.id)
    await bus.publisher.publish(ORDER_CREATED, order)
    await waitFor(() => printerOnA.of('order').length === 1 && sellerOnB.of('notice').length === 1, {
      what: 'the order on both instances'
    })
    expect(printerOnA.of('order')[0]!.id).to.equal(sellerOnB.of('notice')[0]!.id) // one id, assigned once for all instances

    await bus.publisher.publish(MAINTENANCE_SCHEDULED, {
      id: 'm-1', message: 'Scaling up', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString()
    })
    await waitFor(() => [printerOnA, buyerOnB, sellerOnB].every((l) => l.of('maintenance').length === 1), { what: 'maintenance everywhere' })

    // the seller leaves B, misses two orders, and resumes on A with the id B gave it
    sellerOnB.close()
    const missed = [anOrder(seller.id, buyer.id), anOrder(seller.id, buyer.id)]
    for (const o of missed) await bus.publisher.publish(ORDER_CREATED, o)
    const sellerOnA = track(listen(a.url, seller.token, { lastEventId: sellerOnB.lastId() }))
    await waitFor(() => sellerOnA.of('notice').length === 2, { what: 'the missed notices on the other instance' })
    expect(sellerOnA.of('notice').map((e) => e.data.orderId)).to.deep.equal(missed.map((o) => o.orderId))
    expect(sellerOnA.of('maintenance').map((e) => e.data.id)).to.deep.equal(['m-1']) // active notice, on connect
  })
})
