import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import type { FailureRecord } from '../../shared/bus/dead-letter.ts'
import { inboxEvents, type DuplicateSkipped } from '../../shared/bus/inbox.ts'
import { DELIVERY_SCHEDULED, DELIVERY_SHIPPED, INVOICE_ISSUED, ORDER_PAID, type OrderPaid, type ShipTo } from '../../shared/contracts/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { call, type JsonRequest } from '../../shared/testing/http.ts'
import { identity, nextEvent, testEnv, uniqueNamespace, waitFor, type RunningApp, type TestIdentity } from '../../shared/testing/index.ts'
import { createApp } from './app.ts'
import { createApp as createGateway } from '../gateway/app.ts'
import { quickGateway } from '../gateway/test/support.ts'

const ns = uniqueNamespace('fulfilment')

/**
 * Fulfilment against the real broker and database: order.paid (published here as the orders service
 * would) gives each seller of the order one delivery and one invoice, numbered 1, 2, 3, ... per seller
 * with no gap or repeat even with two instances consuming at once; sellers ship their deliveries.
 */
describe('fulfilment: a delivery and an invoice per seller of each paid order', function () {
  this.timeout(30_000)
  const apps = new TestApps(ns)
  let first: RunningApp
  let second: RunningApp
  let orders: Bus
  let tap: EventTap
  const handled: Array<{ app: 'first' | 'second'; messageId: string }> = []
  const deadLetters: Array<FailureRecord & { messageId: unknown }> = []

  const buyer = identity('buyer', 'Bea Buyer')
  const otherBuyer = identity('buyer', 'Ole Buyer')
  const sellerA = identity('seller', 'Ada Seller')
  const sellerB = identity('seller', 'Bo Seller')
  const otherSeller = identity('seller', 'Cy Seller')
  const admin = identity('admin', 'Ann Admin')
  const shipTo: ShipTo = { name: 'Bea Buyer', line1: '1 Main St', city: 'Lyon', postalCode: '69001', country: 'FR' }

  const api = (method: string, path: string, request?: JsonRequest) => call(first.url, method, path, request)
  const table = (name: string) => first.app.get('db').withSchema(first.app.get('schema')).table(name)

  /** A paid order as orders announces it: each seller's share with its lines, their subtotal as the share's total. */
  const paidOrder = (sellers: TestIdentity[], who: TestIdentity = buyer, to: ShipTo | null = shipTo): OrderPaid => {
    const shares = sellers.map((seller, i) => {
      const items = [{ productId: randomUUID(), sellerId: seller.id, title: `${seller.name}'s goods`, unitPrice: 1_000 + i, quantity: 2 }]
      return { sellerId: seller.id, items, total: items[0]!.unitPrice * 2 }
    })
    return {
      orderId: randomUUID(),
      buyerId: who.id,
      paymentId: randomUUID(),
      total: shares.reduce((sum, share) => sum + share.total, 0),
      currency: 'EUR',
      shipTo: to,
      sellers: shares,
      paidAt: new Date().toISOString()
    }
  }

  /** Publishes order.paid and waits until one of the instances has handled it (committed, or found it done). */
  const publishPaid = async (order: OrderPaid, messageId = randomUUID()) => {
    await orders.publisher.publish(ORDER_PAID, order, { messageId })
    await waitFor(() => handled.some((h) => h.messageId === messageId), { what: `order.paid ${messageId} handled` })
    return messageId
  }
  const deliveriesOf = (orderId: string) => table('deliveries').where({ orderId }).orderBy('sellerId')
  const invoicesOf = (orderId: string) => table('invoices').where({ orderId }).orderBy('sellerId')
  const counterOf = async (sellerId: string) => Number((await table('invoice_counters').where({ sellerId }).first())?.issued ?? 0)

  before(async function () {
    // One after the other: both migrate the same schema.
    first = await apps.start(createApp(testEnv(ns)))
    second = await apps.start(createApp(testEnv(ns)))
    for (const [name, running] of [['first', first], ['second', second]] as const) {
      const [consumer] = running.app.get('bus').consumers
      consumer!.on('handled', (envelope: Envelope) => handled.push({ app: name, messageId: envelope.id }))
      consumer!.on('dead-lettered', (letter) => deadLetters.push(letter))
    }
    orders = new Bus({ url: testEnv(ns).amqpUrl, namespace: ns, service: 'orders' })
    await orders.start()
    tap = await EventTap.open(ns, [DELIVERY_SCHEDULED, DELIVERY_SHIPPED, INVOICE_ISSUED])
  })

  after(async function () {
    await tap?.close()
    await orders?.stop()
    await apps.close()
  })

  describe('order.paid', function () {
    it('an order of two sellers: one scheduled delivery and one invoice per seller, with delivery.scheduled and invoice.issued once each', async function () {
      const order = paidOrder([sellerA, sellerB])
      const messageId = await publishPaid(order)

      const deliveries = await deliveriesOf(order.orderId)
      expect(deliveries.map((d) => d.sellerId)).to.have.members([sellerA.id, sellerB.id])
      for (const d of deliveries) expect(d).to.include({ status: 'scheduled', buyerId: buyer.id, shippedAt: null }).and.deep.include({ shipTo })
      const invoices = await invoicesOf(order.orderId)
      expect(invoices).to.have.length(2)
      for (const share of order.sellers) {
        const invoice = invoices.find((i) => i.sellerId === share.sellerId)!
        expect(invoice).to.include({ buyerId: buyer.id, currency: 'EUR' })
        expect(Number(invoice.total)).to.equal(share.total)
        expect(invoice.lines).to.deep.equal(share.items)
      }

      const scheduled = await tap.next((e) => e.routingKey === DELIVERY_SCHEDULED && e.payload.orderId === order.orderId, { count: 2, what: 'delivery.scheduled' })
      const issued = await tap.next((e) => e.routingKey === INVOICE_ISSUED && e.payload.orderId === order.orderId, { count: 2, what: 'invoice.issued' })
      expect(scheduled.map((e) => e.payload.deliveryId)).to.have.members(deliveries.map((d) => d.id))
      expect(issued.map((e) => e.payload.invoiceId)).to.have.members(invoices.map((i) => i.id))
      for (const event of [...scheduled, ...issued]) {
        expect(event.appId).to.equal('fulfilment')
        expect(event.headers['x-causation-id'], 'caused by the order.paid message').to.equal(messageId)
      }
      const issuedA = issued.find((e) => e.payload.sellerId === sellerA.id)!.payload
      expect(issuedA).to.deep.include({ buyerId: buyer.id, number: await counterOf(sellerA.id), lines: order.sellers[0]!.items, total: order.sellers[0]!.total })
      expect(scheduled[0]!.payload).to.deep.include({ buyerId: buyer.id, shipTo })
    })

    it('a pickup (no shipTo): the deliveries have shipTo null', async function () {
      const order = paidOrder([sellerA], buyer, null)
      await publishPaid(order)
      const [delivery] = await deliveriesOf(order.orderId)
      expect(delivery).to.include({ shipTo: null, status: 'scheduled' })
    })

    it('a replayed order.paid (same message id) changes nothing: no second delivery, invoice or event, no number taken', async function () {
      const order = paidOrder([sellerA, sellerB])
      const messageId = await publishPaid(order)
      await tap.next((e) => e.routingKey === INVOICE_ISSUED && e.payload.orderId === order.orderId, { count: 2, what: 'invoice.issued' })
      const counters = [await counterOf(sellerA.id), await counterOf(sellerB.id)]

      const duplicate = nextEvent<DuplicateSkipped>(inboxEvents, 'duplicate', { filter: (d) => d.schema === first.app.get('schema') && d.routingKey === ORDER_PAID })
      await orders.publisher.publish(ORDER_PAID, order, { messageId })
      await duplicate

      expect(await deliveriesOf(order.orderId)).to.have.length(2)
      expect(await invoicesOf(order.orderId)).to.have.length(2)
      expect([await counterOf(sellerA.id), await counterOf(sellerB.id)]).to.deep.equal(counters)
      expect(tap.events.filter((e) => e.payload.orderId === order.orderId)).to.have.length(4)
    })

    it('the same order paid again under another message id issues nothing more and burns no invoice number', async function () {
      const order = paidOrder([sellerA, sellerB])
      await publishPaid(order)
      const counters = [await counterOf(sellerA.id), await counterOf(sellerB.id)]
      await publishPaid({ ...order, paidAt: new Date().toISOString() })

      expect(await deliveriesOf(order.orderId)).to.have.length(2)
      expect(await invoicesOf(order.orderId)).to.have.length(2)
      expect([await counterOf(sellerA.id), await counterOf(sellerB.id)]).to.deep.equal(counters)
      // and the next order of seller A takes the very next number
      const next = paidOrder([sellerA])
      await publishPaid(next)
      expect((await invoicesOf(next.orderId))[0]!.number).to.equal(counters[0]! + 1)
    })

    it('a share whose lines do not add up to its total is dead-lettered with the reason, and nothing is issued', async function () {
      const order = paidOrder([sellerA, sellerB])
      order.sellers[1]!.total += 1
      const messageId = randomUUID()
      const counters = [await counterOf(sellerA.id), await counterOf(sellerB.id)]
      await orders.publisher.publish(ORDER_PAID, order, { messageId })
      const letter = await waitFor(() => deadLetters.find((l) => l.messageId === messageId), { what: 'the order.paid dead-lettered' })
      expect(letter.error).to.include('add up to')
      expect(letter.attempts, 'not retried').to.equal(1)
      expect(await deliveriesOf(order.orderId)).to.have.length(0)
      expect(await invoicesOf(order.orderId)).to.have.length(0)
      expect([await counterOf(sellerA.id), await counterOf(sellerB.id)]).to.deep.equal(counters)
    })

    it('an order whose invoicing fails after a number was taken gives the number back: the next invoice has it (no gap)', async function () {
      // Fresh sellers in sellerId order: the first share is fulfilled (number 1 taken), then the second's invoice
      // insert fails (a trigger of this test's own, for this order only) and the whole transaction rolls back.
      const [early, late] = [identity('seller'), identity('seller')].sort((a, b) => (a.id < b.id ? -1 : 1))
      const failing = paidOrder([early!, late!])
      const schema = first.app.get('schema')
      await first.app.get('db').raw(`
        create function ??.fail_invoice() returns trigger language plpgsql as $$
        begin raise exception 'injected failure for seller %', new."sellerId"; end $$`, [schema])
      await first.app.get('db').raw(
        `create trigger fail_invoice before insert on ??.invoices for each row
         when (new."orderId" = '${failing.orderId}' and new."sellerId" = '${late!.id}') execute function ??.fail_invoice()`,
        [schema, schema]
      )
      const failingId = randomUUID()
      const failures: string[] = []
      const listeners = [first, second].map((running) => {
        const consumer = running.app.get('bus').consumers[0]!
        const listener = (envelope: Envelope) => failures.push(envelope.id)
        consumer.on('handler-failed', listener)
        return () => consumer.off('handler-failed', listener)
      })
      try {
        await orders.publisher.publish(ORDER_PAID, failing, { messageId: failingId })
        await waitFor(() => failures.includes(failingId), { what: 'the failing order.paid to fail once' })
      } finally {
        for (const off of listeners) off()
      }
      expect(await deliveriesOf(failing.orderId)).to.have.length(0)
      expect(await counterOf(early!.id), "the early seller's number was given back").to.equal(0)

      const good = paidOrder([early!, late!])
      await publishPaid(good)
      const numbers = (await invoicesOf(good.orderId)).map((i) => [i.sellerId, i.number])
      expect(numbers).to.have.deep.members([[early!.id, 1], [late!.id, 1]])
    })

    it('100 orders of 3 sellers published at once, two instances consuming: each seller\'s invoices are numbered 1..N, no gap, no repeat', async function () {
      const sellers = [identity('seller'), identity('seller'), identity('seller')]
      // Each order has one, two or all three of the sellers, in varying order (their counters are locked in sellerId order).
      const batch = Array.from({ length: 100 }, (_, i) => {
        const some = sellers.filter((_, s) => (i + s) % 3 !== 0 || i % 5 === 0)
        return paidOrder(i % 2 ? some.reverse() : some, i % 2 ? buyer : otherBuyer)
      })
      const messageIds: string[] = batch.map(() => randomUUID())
      const started = Date.now()
      await Promise.all(batch.map((order, i) => orders.publisher.publish(ORDER_PAID, order, { messageId: messageIds[i] })))
      await waitFor(() => messageIds.every((id) => handled.some((h) => h.messageId === id)), { timeoutMs: 20_000, what: 'the 100 orders handled' })
      const elapsed = Date.now() - started

      for (const seller of sellers) {
        const expected = batch.filter((order) => order.sellers.some((share) => share.sellerId === seller.id))
        const invoices = await table('invoices').where({ sellerId: seller.id }).orderBy('number')
        expect(invoices.map((i) => i.number), `seller ${seller.id}'s numbers`).to.deep.equal(expected.map((_, n) => n + 1))
        expect(invoices.map((i) => i.orderId)).to.have.members(expected.map((order) => order.orderId))
        expect(await counterOf(seller.id)).to.equal(expected.length)
        expect(await table('deliveries').where({ sellerId: seller.id })).to.have.length(expected.length)
      }
      const byApp = (name: string) => handled.filter((h) => h.app === name && messageIds.includes(h.messageId)).length
      expect(byApp('first') + byApp('second')).to.equal(100)
      expect(byApp('first'), 'the first instance took part').to.be.greaterThan(0)
      expect(byApp('second'), 'the second instance took part').to.be.greaterThan(0)
      const shares = batch.reduce((sum, order) => sum + order.sellers.length, 0)
      console.log(`      ${shares} shares of 100 orders fulfilled in ${elapsed} ms (first ${byApp('first')}, second ${byApp('second')} orders)`)
    })
  })

  describe('PATCH /deliveries/:id', function () {
    let order: OrderPaid
    let deliveryA: string

    before(async function () {
      order = paidOrder([sellerA, sellerB])
      await publishPaid(order)
      deliveryA = (await deliveriesOf(order.orderId)).find((d) => d.sellerId === sellerA.id)!.id
    })

    for (const [who, caller] of [['another seller', () => otherSeller], ['the seller of the other delivery', () => sellerB], ['the buyer', () => buyer], ['an admin', () => admin]] as const) {
      it(`by ${who}: 403, still scheduled`, async function () {
        const answer = await api('PATCH', `/deliveries/${deliveryA}`, { token: caller().token, body: { status: 'shipped' } })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(403)
        expect((await table('deliveries').where({ id: deliveryA }).first()).status).to.equal('scheduled')
      })
    }

    for (const [what, body] of [
      ['another status', { status: 'scheduled' }],
      ['an empty body', {}],
      ['another field too', { status: 'shipped', shipTo: null }],
      ['a status that is not text', { status: 1 }]
    ] as const) {
      it(`with ${what}: 400 naming the field`, async function () {
        const answer = await api('PATCH', `/deliveries/${deliveryA}`, { token: sellerA.token, body })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
        expect(answer.body.data, JSON.stringify(answer.body)).to.not.equal(undefined)
      })
    }

    it('without a token 401; an id that is not a UUID or names no delivery 404', async function () {
      expect((await api('PATCH', `/deliveries/${deliveryA}`, { body: { status: 'shipped' } })).status).to.equal(401)
      expect((await api('PATCH', '/deliveries/nope', { token: sellerA.token, body: { status: 'shipped' } })).status).to.equal(404)
      expect((await api('PATCH', `/deliveries/${randomUUID()}`, { token: sellerA.token, body: { status: 'shipped' } })).status).to.equal(404)
    })

    it('by its seller: 200 shipped with shippedAt; twice at once ships it once (the other 409); delivery.shipped published once', async function () {
      const answers = await Promise.all([1, 2].map(() => api('PATCH', `/deliveries/${deliveryA}`, { token: sellerA.token, body: { status: 'shipped' } })))
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409])
      const shipped = answers.find((a) => a.status === 200)!.body
      expect(shipped).to.include({ id: deliveryA, orderId: order.orderId, sellerId: sellerA.id, status: 'shipped' })
      expect(shipped).to.have.all.keys('id', 'orderId', 'sellerId', 'status', 'shipTo', 'createdAt', 'shippedAt')
      expect(Date.parse(shipped.shippedAt)).to.be.at.least(Date.parse(shipped.createdAt))

      const [event] = await tap.next((e) => e.routingKey === DELIVERY_SHIPPED && e.payload.deliveryId === deliveryA, { what: 'delivery.shipped' })
      expect(event!.payload).to.deep.equal({ deliveryId: deliveryA, orderId: order.orderId, sellerId: sellerA.id, buyerId: buyer.id, shippedAt: shipped.shippedAt })
      // Everything committed has left the outbox: had the refused PATCH written an event, it would be on the tap too.
      await waitFor(async () => (await table('outbox').count({ n: '*' }).first())?.n == 0, { what: 'the outbox relayed' })
      expect(tap.events.filter((e) => e.routingKey === DELIVERY_SHIPPED && e.payload.deliveryId === deliveryA)).to.have.length(1)

      const again = await api('PATCH', `/deliveries/${deliveryA}`, { token: sellerA.token, body: { status: 'shipped' } })
      expect(again.status).to.equal(409)
      const other = await api('GET', `/deliveries?orderId=${order.orderId}`, { token: buyer.token })
      expect(other.body.data.map((d: { sellerId: string; status: string }) => [d.sellerId, d.status])).to.have.deep.members([[sellerA.id, 'shipped'], [sellerB.id, 'scheduled']])
    })
  })

  describe('who reads deliveries and invoices', function () {
    let order: OrderPaid
    let deliveries: Array<{ id: string; sellerId: string }>
    let invoices: Array<{ id: string; sellerId: string }>

    before(async function () {
      order = paidOrder([sellerA, sellerB])
      await publishPaid(order)
      deliveries = await deliveriesOf(order.orderId)
      invoices = await invoicesOf(order.orderId)
    })

    const sellersOf = (page: { data: Array<{ sellerId: string }> }) => page.data.map((row) => row.sellerId).sort()
    const both = () => [sellerA.id, sellerB.id].sort()

    for (const path of ['deliveries', 'invoices'] as const) {
      it(`GET /${path}?orderId=: the buyer sees every seller's, each seller only their own, admin all, anyone else nothing`, async function () {
        const list = async (who: TestIdentity) => {
          const answer = await api('GET', `/${path}?orderId=${order.orderId}`, { token: who.token })
          expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
          expect(answer.body).to.have.all.keys('total', 'limit', 'skip', 'data')
          return answer.body
        }
        expect(sellersOf(await list(buyer))).to.deep.equal(both())
        expect(sellersOf(await list(admin))).to.deep.equal(both())
        expect(sellersOf(await list(sellerA))).to.deep.equal([sellerA.id])
        expect(sellersOf(await list(sellerB))).to.deep.equal([sellerB.id])
        expect((await list(otherBuyer)).total).to.equal(0)
        expect((await list(otherSeller)).total).to.equal(0)
        expect((await api('GET', `/${path}?orderId=${order.orderId}`)).status).to.equal(401)
      })

      it(`GET /${path}?sellerId=: a seller asking for another seller's gets nothing; the order's buyer gets that seller's of their orders`, async function () {
        const asA = await api('GET', `/${path}?sellerId=${sellerB.id}&orderId=${order.orderId}`, { token: sellerA.token })
        expect(asA.body.total).to.equal(0)
        const asBuyer = await api('GET', `/${path}?sellerId=${sellerB.id}`, { token: buyer.token })
        expect(asBuyer.body.data.length).to.be.greaterThan(0)
        expect(new Set(asBuyer.body.data.map((row: { sellerId: string }) => row.sellerId))).to.deep.equal(new Set([sellerB.id]))
        expect((await api('GET', `/${path}?sellerId=${sellerB.id}`, { token: otherBuyer.token })).body.total).to.equal(0)
      })

      it(`GET /${path}/:id: the buyer, its seller and admin 200; another seller or buyer 403; unknown 404; a bad query 400`, async function () {
        const rows = path === 'deliveries' ? deliveries : invoices
        const ofA = rows.find((row) => row.sellerId === sellerA.id)!
        const get = (who?: TestIdentity, id = ofA.id) => api('GET', `/${path}/${id}`, { token: who?.token })
        for (const who of [buyer, sellerA, admin]) expect((await get(who)).status, who.name).to.equal(200)
        for (const who of [sellerB, otherSeller, otherBuyer]) expect((await get(who)).status, who.name).to.equal(403)
        expect((await get(undefined)).status).to.equal(401)
        expect((await get(admin, randomUUID())).status).to.equal(404)
        expect((await get(admin, 'not-a-uuid')).status).to.equal(404)
        const bad = await api('GET', `/${path}?buyerId=${buyer.id}`, { token: admin.token })
        expect(bad.status, JSON.stringify(bad.body)).to.equal(400)
        const selectUnknown = await api('GET', `/${path}?$select[]=buyerId`, { token: admin.token })
        expect(selectUnknown.status).to.equal(400)
      })
    }

    it('a delivery and an invoice as the API shows them: the contract\'s fields, never the buyer\'s id', async function () {
      const delivery = (await api('GET', `/deliveries/${deliveries[0]!.id}`, { token: buyer.token })).body
      expect(delivery).to.have.all.keys('id', 'orderId', 'sellerId', 'status', 'shipTo', 'createdAt')
      expect(delivery).to.deep.include({ orderId: order.orderId, status: 'scheduled', shipTo })
      const ofA = invoices.find((i) => i.sellerId === sellerA.id)!
      const invoice = (await api('GET', `/invoices/${ofA.id}`, { token: sellerA.token })).body
      expect(invoice).to.have.all.keys('id', 'orderId', 'sellerId', 'number', 'lines', 'total', 'currency', 'issuedAt')
      const share = order.sellers.find((s) => s.sellerId === invoice.sellerId)!
      expect(invoice).to.deep.include({ orderId: order.orderId, lines: share.items, total: share.total, currency: 'EUR' })
      expect(invoice.number).to.be.a('number').and.at.least(1)
    })

    it('GET /invoices?sellerId= by the seller pages through their invoices by number', async function () {
      const page = await api('GET', `/invoices?sellerId=${sellerA.id}&$sort[number]=1&$limit=2`, { token: sellerA.token })
      expect(page.status, JSON.stringify(page.body)).to.equal(200)
      expect(page.body.limit).to.equal(2)
      expect(page.body.total).to.equal(await counterOf(sellerA.id))
      expect(page.body.data.map((i: { number: number }) => i.number)).to.deep.equal([1, 2])
    })

    it('through the public origin (the gateway routes /deliveries and /invoices to fulfilment by shared/services.ts)', async function () {
      const gateway = await apps.start(createGateway(testEnv(ns), { ...quickGateway, FULFILMENT_URL: first.url }))
      const viaOrigin = (path: string) => call(gateway.url, 'GET', path, { token: buyer.token })
      const listed = await viaOrigin(`/deliveries?orderId=${order.orderId}`)
      expect(listed.status, JSON.stringify(listed.body)).to.equal(200)
      expect(sellersOf(listed.body)).to.deep.equal(both())
      const invoice = await viaOrigin(`/invoices/${invoices[0]!.id}`)
      expect(invoice.status, JSON.stringify(invoice.body)).to.equal(200)
      expect(invoice.body.id).to.equal(invoices[0]!.id)
    })

    it('writes that are not offered answer 405', async function () {
      expect((await api('POST', '/deliveries', { token: admin.token, body: { orderId: order.orderId } })).status).to.equal(405)
      expect((await api('DELETE', `/deliveries/${deliveries[0]!.id}`, { token: admin.token })).status).to.equal(405)
      expect((await api('POST', '/invoices', { token: admin.token, body: {} })).status).to.equal(405)
      expect((await api('PATCH', `/invoices/${invoices[0]!.id}`, { token: admin.token, body: { number: 1 } })).status).to.equal(405)
    })
  })
})
