import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { listen, opened, quickGateway, type Listener } from '../../services/gateway/test/support.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createOrders } from '../../services/orders/app.ts'
import { openedClaim, placedOrder } from '../../services/orders/testing.ts'

/**
 * Claims with deadlines, end to end: orders escalates an unanswered claim after CLAIM_RESPONSE_TIMEOUT,
 * the buyer is told over SSE, every admin by email, once; an answered or a closed claim never escalates.
 */
describe('claims end to end: escalation tells the buyer and every admin, once', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('e2e-claims')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let smtp: TestSmtpServer
  let catalog: RunningApp
  let orders: RunningApp
  let gateway: RunningApp
  let users: Bus
  let stream: Listener
  const seller = identity('seller', 'Sal')
  const buyer = identity('buyer', 'Bea')
  const admins = [identity('admin', 'Ada'), identity('admin', 'Abe')]

  const noticesOf = (claimId: string) => stream.of('notice').filter((e) => e.data.claimId === claimId).map((e) => e.data.kind as string)
  const escalationMails = (claimId: string) => smtp.received.filter((mail) => mail.subject === `Claim ${claimId} needs you: no seller answered`)

  before(async function () {
    smtp = await startSmtpServer()
    // The orders deadline is long enough that the answer and the close below commit before it even on a loaded
    // machine (a close after the deadline would rightly find the claim escalated).
    const [, started, placed, notifications] = await apps.startAll([
      createReference(env), createCatalog(env), createOrders(env, { claimResponseTimeoutMs: 3_000 }),
      createNotifications({ ...env, smtpUrl: smtp.url }, { retryDelaysMs: [100, 100] })
    ])
    catalog = started!
    orders = placed!
    gateway = await apps.start(createGateway(env, quickGateway))
    // notifications learns its admins from user.registered, as the users service announces them
    users = new Bus({ url: env.amqpUrl, namespace: ns, service: 'users' })
    await users.start()
    for (const admin of admins) {
      await users.publisher.publish('user.registered', { userId: admin.id, email: admin.email, name: admin.name, role: 'admin', registeredAt: new Date().toISOString() })
    }
    const known = () => notifications.app.get('db').withSchema(notifications.app.get('schema')).table('users').where({ role: 'admin' })
    await waitFor(async () => (await known()).length === admins.length, { what: 'notifications to know both admins' })
    stream = listen(gateway.url, buyer.token)
    await opened(stream)
  })

  after(async function () {
    stream?.close()
    await users?.stop()
    await apps.close()
    await smtp?.close()
  })

  it('an unanswered claim: the buyer sees claim.opened then claim.escalated, each admin gets one email; answered and closed claims never escalate', async function () {
    const orderId = (await placedOrder(catalog, orders, seller, buyer)).id
    const answered = await openedClaim(orders, buyer, orderId, 'Scratched')
    const closed = await openedClaim(orders, buyer, orderId, 'Changed my mind')
    const ignored = await openedClaim(orders, buyer, orderId, 'Never arrived')
    expect((await call(orders.url, 'PATCH', `/claims/${answered.id}`, { token: seller.token, body: { response: 'Refunded' } })).status).to.equal(200)
    expect((await call(orders.url, 'PATCH', `/claims/${closed.id}`, { token: buyer.token, body: { status: 'closed' } })).status).to.equal(200)

    await waitFor(() => noticesOf(ignored.id).includes('claim.escalated'), { what: "the buyer's claim.escalated notice" })
    const mails = await waitFor(() => escalationMails(ignored.id).length >= admins.length && escalationMails(ignored.id), { what: "both admins' emails" })
    expect(mails.map((mail) => mail.to[0]).sort()).to.deep.equal(admins.map((admin) => admin.email).sort())
    expect(mails[0]!.raw).to.include('Never arrived')
    const notice = stream.of('notice').find((e) => e.data.claimId === ignored.id && e.data.kind === 'claim.escalated')!
    expect(notice.data).to.include({ kind: 'claim.escalated', claimId: ignored.id, orderId, buyerId: buyer.id, reason: 'Never arrived' })

    // A claim opened after all of them escalates after them: by its emails, anything the others caused has arrived.
    const control = await openedClaim(orders, buyer, orderId, 'Control')
    await waitFor(() => escalationMails(control.id).length >= admins.length, { what: "the control claim's emails" })
    await waitFor(() => noticesOf(control.id).includes('claim.escalated'), { what: "the control claim's notice" })
    expect(noticesOf(ignored.id)).to.deep.equal(['claim.opened', 'claim.escalated'])
    expect(escalationMails(ignored.id)).to.have.length(admins.length)
    expect(noticesOf(answered.id)).to.deep.equal(['claim.opened', 'claim.answered'])
    expect(noticesOf(closed.id)).to.deep.equal(['claim.opened', 'claim.closed'])
    expect(escalationMails(answered.id)).to.have.length(0)
    expect(escalationMails(closed.id)).to.have.length(0)
    expect(escalationMails(control.id)).to.have.length(admins.length)
  })
})
