import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { MAINTENANCE_CANCELLED, MAINTENANCE_SCHEDULED, ORDER_CREATED, ORDER_PLACED, USER_UPDATED } from '../../../shared/contracts/index.ts'
import { identity, waitFor } from '../../../shared/testing/index.ts'
import { anOrder, call, gatewayFixture, registerAppliance } from './support.ts'

describe('gateway: live events over SSE', function () {
  const gateway = gatewayFixture('gateway-events')
  const open = gateway.open

  it("a seller's order reaches that seller's appliance and no other seller's", async () => {
    const seller = identity('seller')
    const other = identity('seller')
    const buyer = identity('buyer')
    const mine = await open((await registerAppliance(gateway.running.url, seller.token)).token)
    const theirs = await open((await registerAppliance(gateway.running.url, other.token)).token)
    const order = anOrder(seller.id, buyer.id)
    await gateway.bus.publisher.publish(ORDER_CREATED, order)
    const marker = anOrder(other.id, buyer.id)
    await gateway.bus.publisher.publish(ORDER_CREATED, marker)
    await waitFor(() => mine.of('order').length === 1 && theirs.of('order').length === 1, { what: 'both orders' })
    expect(mine.of('order')[0]!.data).to.deep.equal(order)
    expect(theirs.of('order')[0]!.data.orderId).to.equal(marker.orderId)
    expect(Number(mine.of('order')[0]!.id)).to.be.greaterThan(0)
  })

  it('maintenance reaches every client, and a client connecting while it is active gets it on connect', async () => {
    const admin = identity('admin')
    const user = await open(identity('buyer').token)
    const appliance = await open((await registerAppliance(gateway.running.url, identity('seller').token)).token, { query: true })
    const startsAt = new Date(Date.now() + 60_000).toISOString()
    const endsAt = new Date(Date.now() + 3_600_000).toISOString()
    const created = await call(gateway.running.url, 'POST', '/maintenance-notices', admin.token, { message: 'Database upgrade', startsAt, endsAt })
    expect(created.status).to.equal(201)
    expect(created.body).to.include({ message: 'Database upgrade' })
    await waitFor(() => user.of('maintenance').length > 0 && appliance.of('maintenance').length > 0, { what: 'maintenance on both streams' })
    expect(user.of('maintenance')[0]!.data).to.deep.equal(created.body)

    const late = await open(identity('seller').token)
    await waitFor(() => late.of('maintenance').find((e) => e.data.id === created.body.id), { what: 'the active notice on connect' })

    // announced on the bus directly (as the CLI does), then cancelled: no longer sent on connect
    const cli = { id: randomUUID(), message: 'Broker restart', startsAt, endsAt }
    await gateway.bus.publisher.publish(MAINTENANCE_SCHEDULED, cli)
    await waitFor(() => user.of('maintenance').find((e) => e.data.id === cli.id), { what: 'the CLI notice' })
    const later = await open(identity('buyer').token)
    await waitFor(() => later.of('maintenance').length === 2, { what: 'both active notices on connect' })
    await gateway.bus.publisher.publish(MAINTENANCE_CANCELLED, { id: cli.id, cancelledAt: new Date().toISOString() })
    await waitFor(() => user.of('maintenance-cancelled').length === 1, { what: 'the cancellation' })
    const last = await open(identity('buyer').token)
    await waitFor(() => last.of('maintenance').length === 1, { what: 'the remaining notice on connect' })
    expect(last.of('maintenance').map((e) => e.data.id)).to.deep.equal([created.body.id])
  })

  it('only an admin announces maintenance, with valid times', async () => {
    const body = { message: 'x', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 1000).toISOString() }
    expect((await call(gateway.running.url, 'POST', '/maintenance-notices', identity('seller').token, body)).status).to.equal(403)
    expect((await call(gateway.running.url, 'POST', '/maintenance-notices', undefined, body)).status).to.equal(401)
    const bad = await call(gateway.running.url, 'POST', '/maintenance-notices', identity('admin').token, { message: '', startsAt: 'soon' })
    expect(bad.status).to.equal(400)
    const backwards = await call(gateway.running.url, 'POST', '/maintenance-notices', identity('admin').token, { ...body, endsAt: body.startsAt, startsAt: body.endsAt })
    expect(backwards.status).to.equal(400)
  })

  it("a user receives their own notices and never another user's", async () => {
    const alice = identity('buyer')
    const bob = identity('buyer')
    const seller = identity('seller')
    const aliceStream = await open(alice.token)
    const bobStream = await open(bob.token, { query: true })
    const sellerStream = await open(seller.token)
    await gateway.bus.publisher.publish(USER_UPDATED, {
      userId: alice.id, email: alice.email, name: 'Alice B.', role: 'buyer', changes: ['name'], updatedAt: new Date().toISOString()
    })
    const order = anOrder(seller.id, alice.id)
    // the seller's part (order.created) is the seller's notice; the whole order (order.placed) the buyer's
    await gateway.bus.publisher.publish(ORDER_CREATED, order)
    const { sellerId: _seller, ...whole } = order
    await gateway.bus.publisher.publish(ORDER_PLACED, whole)
    await gateway.bus.publisher.publish(USER_UPDATED, {
      userId: bob.id, email: bob.email, name: 'Bob C.', role: 'buyer', changes: ['name'], updatedAt: new Date().toISOString()
    })
    await waitFor(() => aliceStream.of('notice').length === 2 && bobStream.of('notice').length === 1 && sellerStream.of('notice').length === 1, {
      what: 'each user’s notices'
    })
    expect(aliceStream.of('notice').map((e) => e.data.kind)).to.deep.equal(['user.updated', 'order.placed'])
    expect(aliceStream.of('notice').every((e) => e.data.userId === alice.id || e.data.buyerId === alice.id)).to.equal(true)
    expect(bobStream.of('notice')[0]!.data).to.include({ kind: 'user.updated', userId: bob.id })
    expect(sellerStream.of('notice')[0]!.data).to.include({ kind: 'order.received', orderId: order.orderId })
    expect(aliceStream.of('order')).to.have.length(0)
  })

  it('ids increase on every stream', async () => {
    const seller = identity('seller')
    const stream = await open((await registerAppliance(gateway.running.url, seller.token)).token)
    for (let i = 0; i < 5; i++) await gateway.bus.publisher.publish(ORDER_CREATED, anOrder(seller.id, identity('buyer').id))
    await waitFor(() => stream.of('order').length === 5, { what: 'five orders' })
    const ids = stream.events.map((e) => Number(e.id))
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).to.equal(ids.length)
  })
})
