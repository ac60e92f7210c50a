import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import type { FiredJob } from '../../shared/jobs/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createNotifications } from './app.ts'

/**
 * The seller digest, with two notifications instances and a DIGEST_CRON of every two seconds: each
 * fire is "the same day" again, so every seller with orders in their local yesterday gets exactly one
 * email however often and wherever the zone's schedule fires.
 */
describe('notifications: the seller daily digest', function () {
  const ns = uniqueNamespace('digest')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let smtp: TestSmtpServer
  const instances: RunningApp[] = []
  let bus: Bus
  const fires: FiredJob[] = []
  // UTC+14 and UTC-11: one instant is a different local day in each
  const kiri = { ...identity('seller', 'Kiri'), timeZone: 'Pacific/Kiritimati' }
  const pago = { ...identity('seller', 'Pago'), timeZone: 'Pacific/Pago_Pago' }
  const idle = { ...identity('seller', 'Idle'), timeZone: 'UTC' }
  const sellers = [kiri, pago, idle]
  const expected = new Map<string, { localDate: string; orderIds: string[]; total: number }>()

  /** A local time in the zone, `daysAgo` days before the zone's today, as an instant (PostgreSQL's zone rules). */
  const localTime = async (timeZone: string, daysAgo: number, time: string) => {
    const { rows } = await instances[0]!.app.get('db').raw<{ rows: Array<{ at: Date; day: string }> }>(
      `select ((((now() at time zone ?)::date - ?::int) + ?::time) at time zone ?) as at, to_char((now() at time zone ?)::date - ?::int, 'YYYY-MM-DD') as day`,
      [timeZone, daysAgo, time, timeZone, timeZone, daysAgo]
    )
    return { at: rows[0]!.at.toISOString(), day: rows[0]!.day }
  }
  const order = (seller: TestIdentity, createdAt: string, total: number) => {
    const orderId = randomUUID()
    const items = [{ productId: randomUUID(), sellerId: seller.id, title: 'Thing', unitPrice: total, quantity: 1 }]
    return { orderId, payload: { orderId, buyerId: randomUUID(), sellerId: seller.id, items, total, currency: 'EUR', createdAt } }
  }
  const digestsTo = (seller: TestIdentity) => smtp.to(seller.email).filter((mail) => mail.messageId?.startsWith('<digest.'))

  before(async function () {
    smtp = await startSmtpServer()
    for (let i = 0; i < 2; i++) {
      const running = await apps.start(createNotifications({ ...env, smtpUrl: smtp.url }, { digestCron: '*/2 * * * * *', retryDelaysMs: [100, 100] }))
      running.app.get('jobs').on('fired', (job) => fires.push(job))
      instances.push(running)
    }
    bus = new Bus({ url: env.amqpUrl, namespace: ns, service: 'orders' })
    await bus.start()
    // The orders first, projected before any seller (and so any schedule) exists: no fire sees half of them.
    const published: string[] = []
    for (const seller of [kiri, pago]) {
      const early = await localTime(seller.timeZone, 1, '00:30')
      const late = await localTime(seller.timeZone, 1, '23:30')
      const today = await localTime(seller.timeZone, 0, '00:01')
      const before = await localTime(seller.timeZone, 2, '23:59')
      const included = [order(seller, early.at, 1_250), order(seller, late.at, 4_000)]
      for (const o of [...included, order(seller, today.at, 999), order(seller, before.at, 777)]) {
        await bus.publisher.publish('order.created', o.payload)
        published.push(o.orderId)
      }
      expected.set(seller.id, { localDate: early.day, orderIds: included.map((o) => o.orderId), total: 5_250 })
    }
    // An instant in Pago's local yesterday that is not in Kiri's (25 hours ahead): Pago's digest, not Kiri's.
    // Which hour of Pago's yesterday that is depends on the hour now: outside 10:00-11:00 UTC Kiri's day is
    // one ahead of Pago's and only Pago's late evening is outside Kiri's yesterday; within it, two ahead.
    const kirisYesterday = (await localTime(kiri.timeZone, 1, '00:00')).day
    let crossingAt: string | undefined
    for (const time of ['23:45', '00:45']) {
      const candidate = await localTime(pago.timeZone, 1, time)
      const { rows } = await instances[0]!.app.get('db').raw<{ rows: Array<{ day: string }> }>(
        `select to_char((?::timestamptz at time zone ?)::date, 'YYYY-MM-DD') as day`, [candidate.at, kiri.timeZone]
      )
      if (rows[0]!.day !== kirisYesterday) { crossingAt = candidate.at; break }
    }
    const crossing = order(pago, crossingAt!, 555)
    await bus.publisher.publish('order.created', crossing.payload)
    published.push(crossing.orderId)
    const pagos = expected.get(pago.id)!
    expected.set(pago.id, { ...pagos, orderIds: [...pagos.orderIds, crossing.orderId], total: pagos.total + 555 })
    const db = instances[0]!.app.get('db').withSchema(instances[0]!.app.get('schema'))
    await waitFor(async () => Number((await db.table('seller_orders').whereIn('orderId', published).count({ n: '*' }))[0]!.n) === published.length, {
      what: 'every order projected'
    })
    for (const seller of sellers) {
      await bus.publisher.publish('user.registered', {
        userId: seller.id, email: seller.email, name: seller.name, role: 'seller', timeZone: seller.timeZone, registeredAt: new Date().toISOString()
      })
    }
  })

  after(async function () {
    await bus?.stop()
    await apps.close()
    await smtp?.close()
  })

  it("each seller with orders in their local yesterday gets one digest listing them and their total, however often it fires; a seller without gets none", async function () {
    this.timeout(30_000)
    const firesOf = (zone: string) => fires.filter((job) => job.scheduleName === `seller-digest:${zone}`).length
    await waitFor(() => sellers.every((seller) => firesOf(seller.timeZone) >= 2), { timeoutMs: 20_000, what: 'two fires of every zone' })
    for (const seller of [kiri, pago]) {
      const want = expected.get(seller.id)!
      const [digest, ...more] = await waitFor(() => digestsTo(seller).length > 0 && digestsTo(seller), { what: `${seller.name}'s digest` })
      expect(more, `${seller.name}'s digests`).to.have.length(0)
      const total = `${(want.total / 100).toFixed(2)} EUR`
      expect(digest!.subject).to.equal(`Your Bazaar orders of ${want.localDate}: ${want.orderIds.length}, ${total}`)
      expect(digest!.messageId).to.equal(`<digest.${seller.id}.${want.localDate}@notifications.bazaar>`)
      const body = digest!.raw.replace(/=\r?\n/g, '')
      for (const orderId of want.orderIds) expect(body).to.include(orderId)
      expect(body).to.include(`Total: ${total}`)
      expect(body).not.to.include('9.99 EUR')
      expect(body).not.to.include('7.77 EUR')
      if (seller === kiri) expect(body).not.to.include('5.55 EUR')
    }
    expect(digestsTo(idle)).to.have.length(0)
  })
})
