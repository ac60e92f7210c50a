import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { busMigrations } from '../../../shared/bus/outbox-table.ts'
import { MAINTENANCE_CANCELLED, MAINTENANCE_SCHEDULED, ORDER_CREATED, USER_UPDATED } from '../../../shared/contracts/index.ts'
import { createKnex, schemaName } from '../../../shared/db/database.ts'
import { migrate } from '../../../shared/db/migrations.ts'
import { dropNamespaceSchemas, testEnv, uniqueNamespace } from '../../../shared/testing/index.ts'
import { EventLog, type Projection } from '../history/event-log.ts'
import { NoticeProjection } from '../history/notices.ts'
import { ReceiptStore } from '../history/receipts.ts'
import { EventStore } from '../history/store.ts'
import { migrations } from '../migrations/index.ts'
import { anOrder } from './support.ts'

/** The parts of the gateway's history, each on its own against the real tables. */
describe('gateway: the history parts (event log, notice projection, receipts)', function () {
  const namespace = uniqueNamespace('gateway-history-parts')
  const schema = schemaName(namespace, 'gateway')
  let db: Knex

  before(async () => {
    db = createKnex(testEnv(namespace).databaseUrl, schema)
    await migrate(db, schema, [...busMigrations, ...migrations])
  })

  after(async () => {
    await db?.destroy()
    await dropNamespaceSchemas(namespace)
  })

  const notice = () => {
    const now = Date.now()
    return { id: randomUUID(), message: 'Down for upgrades', startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString() }
  }

  it('keeps the notice projection current as the log records, and only once the projection has it does the log count it as seen', async () => {
    const notices = new NoticeProjection(db, schema)
    let failNext = true
    const flaky: Projection = {
      apply: async (events) => {
        if (failNext) {
          failNext = false
          throw new Error('db hiccup')
        }
        await notices.apply(events)
      }
    }
    const log = new EventLog(db, schema, { projections: [flaky] })
    const scheduled = notice()
    const messageId = randomUUID()
    const failed = await log.record(messageId, MAINTENANCE_SCHEDULED, scheduled).then(() => undefined, (err: Error) => err)
    expect(failed?.message).to.equal('db hiccup')
    expect((await notices.active()).map((e) => e.payload)).to.not.deep.include(scheduled)
    // the same event again (its redelivery): the projection gets it this time
    const recorded = await log.record(messageId, MAINTENANCE_SCHEDULED, scheduled)
    expect((await notices.active()).map((e) => e.id)).to.include(recorded.id)
    await log.record(randomUUID(), MAINTENANCE_CANCELLED, { id: scheduled.id, cancelledAt: new Date().toISOString() })
    expect((await notices.active()).map((e) => e.id)).to.not.include(recorded.id)
  })

  it('lists an appliance the orders of its seller it has not acknowledged, and none once acknowledged or of another seller', async () => {
    const log = new EventLog(db, schema)
    const receipts = new ReceiptStore(db, schema)
    const sellerId = randomUUID()
    const applianceId = randomUUID()
    await db(`${schema}.appliances`).insert({ id: applianceId, seller_id: sellerId, name: 'printer', token_hash: randomUUID() })
    const [first, second, other] = [anOrder(sellerId, randomUUID()), anOrder(sellerId, randomUUID()), anOrder(randomUUID(), randomUUID())]
    for (const order of [first, second, other]) await log.record(randomUUID(), ORDER_CREATED, order)
    const principal = { applianceId, sellerId }
    const since = new Date(Date.now() - 60_000)
    expect((await receipts.unacknowledged(principal, since)).map((e) => (e.payload as typeof first).orderId)).to.deep.equal([first.orderId, second.orderId])
    expect(await receipts.acknowledge({ id: applianceId, sellerId }, first.orderId)).to.have.property('ackedAt')
    expect(await receipts.acknowledge({ id: applianceId, sellerId }, other.orderId), "another seller's order").to.equal(undefined)
    expect((await receipts.unacknowledged(principal, since)).map((e) => (e.payload as typeof first).orderId)).to.deep.equal([second.orderId])
  })

  it("replays to a user only the events of their audiences after their Last-Event-ID; the composed catch-up adds the active notices", async () => {
    const store = new EventStore(db, schema, 3_600_000)
    const userId = randomUUID()
    const mark = await store.maxId()
    const mine = await store.record(randomUUID(), USER_UPDATED, { userId, email: 'a@example.com', name: 'Ada', role: 'buyer', changes: ['name'], updatedAt: new Date().toISOString() })
    await store.record(randomUUID(), USER_UPDATED, { userId: randomUUID(), email: 'b@example.com', name: 'Bob', role: 'buyer', changes: ['name'], updatedAt: new Date().toISOString() })
    const principal = { kind: 'user' as const, userId, role: 'buyer' as const }
    expect((await store.log.replay(principal, mark, new Date(0))).map((e) => e.id)).to.deep.equal([mine.id])
    const announced = await store.record(randomUUID(), MAINTENANCE_SCHEDULED, notice())
    const caughtUp = (await store.catchUp(principal, mark)).map((e) => e.id)
    expect(caughtUp).to.include.members([mine.id, announced.id])
    expect(caughtUp).to.deep.equal([...caughtUp].sort((a, b) => a - b))
    // without a Last-Event-ID a user gets only the notices
    expect((await store.catchUp(principal, undefined)).map((e) => e.routingKey)).to.satisfy((keys: string[]) => keys.every((k) => k === MAINTENANCE_SCHEDULED))
  })
})
