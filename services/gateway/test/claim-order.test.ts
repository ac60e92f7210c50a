import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Bus } from '../../../shared/bus/bus.ts'
import { CLAIM_ANSWERED, CLAIM_CLOSED, CLAIM_OPENED } from '../../../shared/contracts/index.ts'
import { createServiceApp } from '../../../shared/feathers/app.ts'
import { TestApps } from '../../../shared/testing/apps.ts'
import { testEnv } from '../../../shared/testing/env.ts'
import { uniqueNamespace } from '../../../shared/testing/namespace.ts'
import { waitFor } from '../../../shared/testing/wait.ts'
import { historyConsumer } from '../consumers/history.ts'
import type { EventToRecord } from '../history/event-log.ts'
import { EventStore } from '../history/store.ts'
import { migrations } from '../migrations/index.ts'

/** The real store, whose first recording of one claim's claim.opened fails (a database hiccup). */
class HiccupOnce extends EventStore {
  failures = 0
  constructor(db: ConstructorParameters<typeof EventStore>[0], schema: string, private readonly claimId: string) {
    super(db, schema, 3_600_000)
  }

  override async recordMany(items: EventToRecord[]) {
    const first = items.some((item) => item.routingKey === CLAIM_OPENED && (item.payload as { claimId: string }).claimId === this.claimId)
    if (first && this.failures++ === 0) throw new Error('database hiccup')
    return super.recordMany(items)
  }
}

/**
 * The gateway's history consumer alone (no live feed, which would record the events too): a claim's
 * events are recorded, and so replayed, in their order even when recording the first one fails once.
 */
describe('gateway: a claim\'s events are recorded in order, even when the first fails once', function () {
  const ns = uniqueNamespace('gateway-claim-order')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  const buyerId = randomUUID()
  const claimId = randomUUID()
  let store: HiccupOnce
  let bus: Bus

  before(async function () {
    const app = createServiceApp({ service: 'gateway', migrations, env })
    store = new HiccupOnce(app.get('db'), app.get('schema'), claimId)
    app.configure(historyConsumer(store))
    await apps.start(app)
    bus = new Bus({ url: env.amqpUrl, namespace: ns, service: 'orders' })
    await bus.start()
  })

  after(async function () {
    await bus?.stop()
    await apps.close()
  })

  it('claim.opened, claim.answered, claim.closed are replayed to the buyer in that order', async function () {
    const claim = { claimId, orderId: randomUUID(), buyerId }
    const at = () => new Date().toISOString()
    await bus.publisher.publish(CLAIM_OPENED, { ...claim, reason: 'Broken', openedAt: at() })
    await bus.publisher.publish(CLAIM_ANSWERED, { ...claim, sellerId: randomUUID(), response: 'Sorry', answeredAt: at() })
    await bus.publisher.publish(CLAIM_CLOSED, { ...claim, closedAt: at() })
    const recorded = await waitFor(async () => {
      const events = await store.catchUp({ kind: 'user', userId: buyerId, role: 'buyer' }, 0)
      return events.length === 3 && events
    }, { what: "the claim's three events in the history" })
    expect(store.failures, 'recording claim.opened failed once').to.be.at.least(1)
    expect([...recorded].sort((a, b) => a.id - b.id).map((e) => e.routingKey)).to.deep.equal([CLAIM_OPENED, CLAIM_ANSWERED, CLAIM_CLOSED])
  })
})
