import { expect } from 'chai'
import jwt from 'jsonwebtoken'
import { ORDER_CREATED } from '../../../shared/contracts/index.ts'
import { identity, waitFor } from '../../../shared/testing/index.ts'
import { anOrder, call, gatewayFixture, registerAppliance } from './support.ts'

describe('gateway: nothing missed, receipts once, credentials', function () {
  const gateway = gatewayFixture('gateway-replay')
  const open = gateway.open
  const ack = (token: string, orderId: string) => call(gateway.running.url, 'POST', '/receipts', token, { orderId })

  it('an appliance that drops, misses 10 orders and reconnects with Last-Event-ID gets all 10, once', async () => {
    const seller = identity('seller')
    const buyer = identity('buyer')
    const appliance = await registerAppliance(gateway.running.url, seller.token)
    const first = await open(appliance.token)
    const firstOrder = anOrder(seller.id, buyer.id)
    await gateway.bus.publisher.publish(ORDER_CREATED, firstOrder)
    await waitFor(() => first.of('order').length === 1, { what: 'the first order' })
    expect((await ack(appliance.token, firstOrder.orderId)).status).to.equal(201)
    first.close()

    const missed = Array.from({ length: 10 }, () => anOrder(seller.id, buyer.id))
    for (const order of missed) await gateway.bus.publisher.publish(ORDER_CREATED, order)
    const again = await open(appliance.token, { lastEventId: first.lastId() })
    await waitFor(() => again.of('order').length >= 10, { what: 'the 10 missed orders' })
    // a marker published afterwards proves nothing else was on its way
    const marker = anOrder(seller.id, buyer.id)
    await gateway.bus.publisher.publish(ORDER_CREATED, marker)
    await waitFor(() => again.of('order').find((e) => e.data.orderId === marker.orderId), { what: 'the marker' })
    expect(again.of('order').map((e) => e.data.orderId)).to.deep.equal([...missed, marker].map((o) => o.orderId))
  })

  it("a user's missed notices are replayed after their Last-Event-ID; a malformed one is ignored", async () => {
    const buyer = identity('buyer')
    const seller = identity('seller') // a seller's notices: one order.received per order.created
    const first = await open(seller.token)
    await gateway.bus.publisher.publish(ORDER_CREATED, anOrder(seller.id, buyer.id))
    await waitFor(() => first.of('notice').length === 1, { what: 'the first notice' })
    first.close()
    const missed = Array.from({ length: 10 }, () => anOrder(seller.id, buyer.id))
    for (const order of missed) await gateway.bus.publisher.publish(ORDER_CREATED, order)

    const resumed = await open(seller.token, { lastEventId: first.lastId() })
    await waitFor(() => resumed.of('notice').length === 10, { what: 'the 10 missed notices' })
    // treated as no Last-Event-ID at all: no history, live from now on
    const malformed = await open(seller.token, { lastEventId: 'not-a-number' })
    const marker = anOrder(seller.id, buyer.id)
    await gateway.bus.publisher.publish(ORDER_CREATED, marker)
    await waitFor(() => resumed.of('notice').length === 11 && malformed.of('notice').length === 1, { what: 'the marker on both streams' })
    expect(resumed.of('notice').map((e) => e.data.orderId)).to.deep.equal([...missed, marker].map((o) => o.orderId))
    expect(malformed.of('notice')[0]!.data.orderId).to.equal(marker.orderId)
  })

  it('an appliance gets every order it has not acknowledged on connect, and never one it has', async () => {
    const seller = identity('seller')
    const buyer = identity('buyer')
    const appliance = await registerAppliance(gateway.running.url, seller.token)
    const orders = Array.from({ length: 4 }, () => anOrder(seller.id, buyer.id))
    for (const order of orders) await gateway.bus.publisher.publish(ORDER_CREATED, order)
    const first = await open(appliance.token)
    await waitFor(() => first.of('order').length === 4, { what: 'four orders' })
    expect((await ack(appliance.token, orders[0]!.orderId)).status).to.equal(201)
    expect((await ack(appliance.token, orders[0]!.orderId)).status).to.equal(201) // idempotent
    expect((await ack(appliance.token, orders[2]!.orderId)).status).to.equal(201)
    first.close()

    // whatever Last-Event-ID says (none, or past everything), unacknowledged orders come, acknowledged ones do not
    const fresh = await open(appliance.token)
    const resumed = await open(appliance.token, { lastEventId: first.lastId() })
    await waitFor(() => fresh.of('order').length === 2 && resumed.of('order').length === 2, { what: 'the unacknowledged orders' })
    expect(fresh.of('order').map((e) => e.data.orderId)).to.deep.equal([orders[1]!.orderId, orders[3]!.orderId])
    expect(resumed.of('order').map((e) => e.data.orderId)).to.deep.equal([orders[1]!.orderId, orders[3]!.orderId])

    const other = await registerAppliance(gateway.running.url, identity('seller').token)
    expect((await ack(other.token, orders[1]!.orderId)).status).to.equal(404)
    expect((await ack('bzapp_nope', orders[1]!.orderId)).status).to.equal(401)
    expect((await ack(appliance.token, undefined as never)).status).to.equal(400)
  })

  it('refuses bad credentials with 401 and no stream', async () => {
    const wrongSecret = jwt.sign({ role: 'buyer' }, 'not-the-secret', { subject: 'x', audience: 'https://bazaar.local', issuer: 'bazaar' })
    for (const headers of [{}, { authorization: 'Bearer garbage' }, { authorization: `Bearer ${wrongSecret}` }, { authorization: 'Bearer bzapp_unknown' }, { authorization: 'Basic abc' }] as Array<Record<string, string>>) {
      const response = await fetch(`${gateway.running.url}/events`, { headers })
      expect(response.status, JSON.stringify(headers)).to.equal(401)
      expect(response.headers.get('content-type')).to.match(/application\/json/)
      expect(await response.json()).to.include({ name: 'NotAuthenticated', code: 401 })
    }
    expect((await fetch(`${gateway.running.url}/events?token=garbage`)).status).to.equal(401)
  })

  it("revoking an appliance ends its open stream and its token stops working", async () => {
    const seller = identity('seller')
    const appliance = await registerAppliance(gateway.running.url, seller.token)
    const response = await fetch(`${gateway.running.url}/events`, { headers: { authorization: `Bearer ${appliance.token}` } })
    expect(response.status).to.equal(200)
    const reader = response.body!.getReader()
    await reader.read() // the retry hint: the stream is open
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true
    })()
    expect((await call(gateway.running.url, 'DELETE', `/appliances/${appliance.id}`, identity('seller').token)).status).to.equal(404)
    const removed = await call(gateway.running.url, 'DELETE', `/appliances/${appliance.id}`, seller.token)
    expect(removed.status).to.equal(200)
    expect(removed.body).to.not.have.property('token')
    expect(await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve('still open'), 5_000))])).to.equal(true)
    expect((await fetch(`${gateway.running.url}/events?token=${appliance.token}`)).status).to.equal(401)
    expect((await call(gateway.running.url, 'GET', '/appliances', seller.token)).body).to.deep.equal([])
  })

  it('sellers manage only their own appliances; the token is shown once', async () => {
    const seller = identity('seller')
    const created = await call(gateway.running.url, 'POST', '/appliances', seller.token, { name: 'Dock 3 printer' })
    expect(created.status).to.equal(201)
    expect(created.body.token).to.match(/^bzapp_/)
    const listed = await call(gateway.running.url, 'GET', '/appliances', seller.token)
    expect(listed.body).to.deep.equal([{ id: created.body.id, sellerId: seller.id, name: 'Dock 3 printer', createdAt: created.body.createdAt }])
    expect((await call(gateway.running.url, 'GET', '/appliances', identity('seller').token)).body).to.deep.equal([])
    expect((await call(gateway.running.url, 'POST', '/appliances', identity('buyer').token, { name: 'x' })).status).to.equal(403)
    expect((await call(gateway.running.url, 'POST', '/appliances', seller.token, { name: '', extra: 1 })).status).to.equal(400)
    expect((await call(gateway.running.url, 'DELETE', '/appliances/not-a-uuid', seller.token)).status).to.equal(404)
  })
})
