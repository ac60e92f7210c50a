import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createCatalog } from '../catalog/app.ts'
import { createApp as createReference } from '../reference/app.ts'
import { createApp } from './app.ts'
import { openedClaim, placedOrder } from './testing.ts'

const ns = uniqueNamespace('claims')

describe('claims: sellers answer, buyers close, unanswered claims are escalated on time', function () {
  const apps = new TestApps(ns)
  // Short, yet longer than the job runner's look-ahead (it takes a job shortly before it is due, and an
  // answer then waits for the escalation and loses): answers in these tests come well before that.
  const timeoutMs = 1_000
  let catalog: RunningApp
  let orders: RunningApp
  /** a second instance whose claims get an hour: the checks on them never race an escalation */
  let patient: RunningApp
  let tap: EventTap
  const seller = identity('seller', 'Sal Seller')
  const otherSeller = identity('seller', 'Oz Seller')
  const buyer = identity('buyer', 'Bea Buyer')
  const otherBuyer = identity('buyer', 'Ole Buyer')
  const admin = identity('admin', 'Ada Admin')
  let orderId: string

  const patch = (id: string, token: string | undefined, body: unknown) => call(orders.url, 'PATCH', `/claims/${id}`, { token, body })
  const claimRow = (id: string) => orders.app.get('db').withSchema(orders.app.get('schema')).table('claims').where({ id }).first()

  before(async function () {
    await apps.start(createReference(testEnv(ns)))
    catalog = await apps.start(createCatalog(testEnv(ns)))
    orders = await apps.start(createApp(testEnv(ns), { claimResponseTimeoutMs: timeoutMs }))
    patient = await apps.start(createApp(testEnv(ns), { claimResponseTimeoutMs: 3_600_000 }))
    tap = await EventTap.open(ns, ['claim.*'])
    orderId = (await placedOrder(catalog, orders, seller, buyer)).id
  })

  after(async function () {
    await tap?.close()
    await apps.close()
  })

  it("a seller of the order answers: 200 answered with the response, claim.answered names the seller; the claim is never escalated", async function () {
    const claim = await openedClaim(orders, buyer, orderId)
    const answered = await patch(claim.id, seller.token, { response: 'Sorry! A new one is on its way.' })
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200)
    expect(answered.body).to.include({ id: claim.id, status: 'answered', response: 'Sorry! A new one is on its way.', escalatedAt: null, closedAt: null })
    const [event] = await tap.next((e) => e.routingKey === 'claim.answered' && e.payload.claimId === claim.id, { what: 'claim.answered' })
    expect(event!.payload).to.deep.equal({
      claimId: claim.id, orderId, buyerId: buyer.id, sellerId: seller.id, response: 'Sorry! A new one is on its way.', answeredAt: answered.body.answeredAt
    })
    // A claim opened after it, left open, is escalated: by then the answered one's deadline had long passed.
    const control = await openedClaim(orders, buyer, orderId)
    await tap.next((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === control.id, { what: "the unanswered claim's escalation" })
    expect((await claimRow(claim.id)).status).to.equal('answered')
    expect(tap.events.filter((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === claim.id)).to.have.length(0)
  })

  it('the buyer closes a claim: 200 closed, claim.closed; closed claims are never escalated', async function () {
    const claim = await openedClaim(orders, buyer, orderId)
    const closed = await patch(claim.id, buyer.token, { status: 'closed' })
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200)
    expect(closed.body).to.include({ id: claim.id, status: 'closed', response: null })
    const [event] = await tap.next((e) => e.routingKey === 'claim.closed' && e.payload.claimId === claim.id, { what: 'claim.closed' })
    expect(event!.payload).to.deep.equal({ claimId: claim.id, orderId, buyerId: buyer.id, closedAt: closed.body.closedAt })
    const control = await openedClaim(orders, buyer, orderId)
    await tap.next((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === control.id, { what: "the unanswered claim's escalation" })
    expect((await claimRow(claim.id)).status).to.equal('closed')
    expect(tap.events.filter((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === claim.id)).to.have.length(0)
  })

  it('an unanswered claim is escalated once, after CLAIM_RESPONSE_TIMEOUT and not before; it can then only be closed', async function () {
    const claim = await openedClaim(orders, buyer, orderId, 'Never arrived')
    const openedAt = Date.now()
    const [event] = await tap.next((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === claim.id, { what: 'claim.escalated' })
    expect(Date.now() - openedAt).to.be.at.least(timeoutMs - 50)
    expect(event!.payload).to.include({ claimId: claim.id, orderId, buyerId: buyer.id, reason: 'Never arrived' })
    const row = await claimRow(claim.id)
    expect(row.status).to.equal('escalated')
    expect(new Date(row.escalatedAt).toISOString()).to.equal(event!.payload.escalatedAt)
    const late = await patch(claim.id, seller.token, { response: 'late' })
    expect(late.status, JSON.stringify(late.body)).to.equal(409)
    expect((await patch(claim.id, buyer.token, { status: 'closed' })).status).to.equal(200)
    expect(tap.events.filter((e) => e.routingKey === 'claim.escalated' && e.payload.claimId === claim.id)).to.have.length(1)
  })

  describe('who may change a claim, and what', function () {
    let claimId: string
    before(async function () {
      claimId = (await openedClaim(patient, buyer, orderId)).id
    })
    const cases: Array<{ who: string; token: () => string | undefined; body: unknown; status: number }> = [
      { who: 'no token', token: () => undefined, body: { response: 'x' }, status: 401 },
      { who: 'a seller not in the order, answering', token: () => otherSeller.token, body: { response: 'x' }, status: 403 },
      { who: 'another buyer, closing', token: () => otherBuyer.token, body: { status: 'closed' }, status: 403 },
      { who: 'the seller, closing', token: () => seller.token, body: { status: 'closed' }, status: 403 },
      { who: 'the buyer, answering', token: () => buyer.token, body: { response: 'x' }, status: 403 },
      { who: 'an admin', token: () => admin.token, body: { status: 'closed' }, status: 403 }
    ]
    for (const { who, token, body, status } of cases) {
      it(`PATCH /claims/:id by ${who}: ${status}, and the claim stays open`, async function () {
        const answer = await patch(claimId, token(), body)
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        expect((await claimRow(claimId)).status).to.equal('open')
      })
    }
  })

  describe('bad changes are a 4xx naming what is wrong, never a 500', function () {
    let claimId: string
    before(async function () {
      claimId = (await openedClaim(patient, buyer, orderId)).id
    })
    const cases: Array<{ what: string; id?: () => string; body: unknown; token?: () => string; status: number; fields?: string[] }> = [
      { what: 'an empty body', body: {}, status: 400 },
      { what: 'an empty response', body: { response: '' }, status: 400, fields: ['response'] },
      { what: 'a blank response', body: { response: '   ' }, status: 400, fields: ['response'] },
      { what: 'a response that is not text', body: { response: 5 }, status: 400, fields: ['response'] },
      { what: 'reopening', body: { status: 'open' }, token: () => buyer.token, status: 400, fields: ['status'] },
      { what: 'escalating by hand', body: { status: 'escalated' }, token: () => buyer.token, status: 400, fields: ['status'] },
      { what: 'answering and closing at once', body: { response: 'x', status: 'closed' }, status: 400, fields: ['response', 'status'] },
      { what: 'an unknown field', body: { response: 'x', refund: 100 }, status: 400, fields: ['refund'] },
      { what: 'an array', body: [{ response: 'x' }], status: 400 },
      { what: 'an unknown claim', id: () => randomUUID(), body: { response: 'x' }, status: 404 },
      { what: 'an id that is not a UUID', id: () => 'claim-1', body: { response: 'x' }, status: 404 }
    ]
    for (const { what, id, body, token, status, fields } of cases) {
      it(`${what}: ${status}`, async function () {
        const answer = await patch(id?.() ?? claimId, (token ?? (() => seller.token))(), body)
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        for (const field of fields ?? []) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }

    it('answering an answered claim, or closing a closed one: 409', async function () {
      const claim = await openedClaim(patient, buyer, orderId)
      expect((await patch(claim.id, seller.token, { response: 'first' })).status).to.equal(200)
      expect((await patch(claim.id, seller.token, { response: 'second' })).status).to.equal(409)
      expect((await patch(claim.id, buyer.token, { status: 'closed' })).status).to.equal(200)
      const again = await patch(claim.id, buyer.token, { status: 'closed' })
      expect(again.status).to.equal(409)
      expect(again.body.data).to.include({ status: 'closed' })
    })
  })
})
