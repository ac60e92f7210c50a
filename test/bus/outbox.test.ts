import { expect } from 'chai'
import type { GetMessage } from 'amqplib'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import { writeOutbox, writeOutboxMany } from '../../shared/bus/outbox.ts'
import { OutboxRelay } from '../../shared/bus/outbox-relay.ts'
import { readRequestTrace } from '../../shared/ops/request-trace.ts'
import { USER_REGISTERED, type UserRegistered } from '../../shared/contracts/user.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { busSchema, cleanUp, env, forceCloseConnection, RawBroker, registered, startBus } from './support.ts'

describe('transactional outbox', () => {
  const ns = uniqueNamespace('outbox')
  let db: Knex
  let schema: string
  let bus: Bus
  let relay: OutboxRelay
  let raw: RawBroker
  /** a server-named exclusive queue that sees every user event */
  let tap: string
  const opened: Array<Bus | OutboxRelay | { destroy(): Promise<void> }> = []

  const identity = () => ({ namespace: ns, appId: 'users', schema })
  const startRelay = async (on: Bus, batchSize?: number) => {
    const started = new OutboxRelay({ db, databaseUrl: env.databaseUrl, schema, namespace: ns, publisher: on.publisher, batchSize, retryDelayMs: 100 })
    await started.start()
    opened.unshift(started)
    return started
  }
  /** Commits the given events in one transaction, as a service method would with its state change. */
  const commit = (...events: UserRegistered[]) =>
    db.transaction(async (trx) => { for (const event of events) await writeOutbox(trx, identity(), USER_REGISTERED, event) })
  const userIdOf = (message: GetMessage) => (JSON.parse(message.content.toString()) as UserRegistered).userId

  before(async () => {
    ;({ db, schema } = await busSchema(ns, 'users'))
    raw = await RawBroker.open()
    bus = await startBus(ns, 'users')
    opened.push(bus)
    tap = (await raw.channel.assertQueue('', { exclusive: true })).queue
    await raw.channel.bindQueue(tap, names.eventsExchange(ns), 'user.#')
    relay = await startRelay(bus)
  })

  after(() => cleanUp(ns, ...opened, raw, db))

  it('publishes nothing for a transaction that rolled back', async () => {
    const rolledBack = registered()
    const failure = await db.transaction(async (trx) => {
      await writeOutbox(trx, identity(), USER_REGISTERED, rolledBack)
      throw new Error('the state change failed')
    }).then(() => undefined, (err: Error) => err)
    expect(failure?.message).to.equal('the state change failed')
    // a later committed event is the only one that ever arrives
    const marker = registered()
    await commit(marker)
    const [only] = await raw.takeExactly(tap, 1)
    expect(userIdOf(only!)).to.equal(marker.userId)
    expect(await raw.drain(tap)).to.have.length(0)
  })

  it('publishes a committed event exactly once, and removes its row', async () => {
    const event = registered()
    await commit(event)
    const [message] = await raw.takeExactly(tap, 1)
    expect(userIdOf(message!)).to.equal(event.userId)
    expect(message!.properties.appId).to.equal('users')
    await waitFor(async () => (await relay.backlog()) === 0, { what: 'the outbox to be empty' })
    const marker = registered()
    await commit(marker)
    expect((await raw.takeExactly(tap, 1)).map(userIdOf)).to.deep.equal([marker.userId])
  })

  it('publishes an event committed while the broker connection is being closed, once it is back', async () => {
    const event = registered()
    await Promise.all([forceCloseConnection(`${ns}.users`), commit(event)])
    const [message] = await raw.takeExactly(tap, 1, 20_000)
    expect(userIdOf(message!)).to.equal(event.userId)
    await waitFor(async () => (await relay.backlog()) === 0, { what: 'the outbox to be empty' })
  })

  it('with two relays on one schema, publishes each of 500 rows exactly once', async () => {
    await relay.stop()
    const otherBus = await startBus(ns, 'users-replica')
    opened.unshift(otherBus)
    const relays = [await startRelay(bus, 50), await startRelay(otherBus, 50)]
    const publishedBy = [0, 0]
    relays.forEach((r, i) => r.on('published', (count: number) => { publishedBy[i]! += count }))

    const events = Array.from({ length: 500 }, () => registered())
    // in several transactions, so both relays have work to compete for
    for (let i = 0; i < events.length; i += 50) await commit(...events.slice(i, i + 50))

    const messages = await raw.takeExactly(tap, 500, 20_000)
    await waitFor(async () => (await relays[0]!.backlog()) === 0, { what: 'the outbox to be empty' })
    expect(new Set(messages.map(userIdOf)).size).to.equal(500)
    expect(publishedBy[0]! + publishedBy[1]!, `published by each relay: ${publishedBy.join(' + ')}`).to.equal(500)
    const marker = registered()
    await commit(marker)
    expect((await raw.takeExactly(tap, 1)).map(userIdOf)).to.deep.equal([marker.userId])
  })

  it('publishes the events of a batch row one message each, in order between the rows around it, each in the trace', async () => {
    const requestId = `batch-${Date.now()}`
    const [before, after] = [registered(), registered()]
    const batch = Array.from({ length: 5 }, () => registered())
    let ids: string[] = []
    await db.transaction(async (trx) => {
      await writeOutbox(trx, identity(), USER_REGISTERED, before, { requestId })
      ids = await writeOutboxMany(trx, identity(), batch.map((payload) => ({ routingKey: USER_REGISTERED, payload, meta: { requestId } })))
      await writeOutbox(trx, identity(), USER_REGISTERED, after, { requestId })
    })
    expect(new Set(ids)).to.have.lengthOf(5)
    const messages = await raw.takeExactly(tap, 7)
    expect(messages.map(userIdOf)).to.deep.equal([before, ...batch, after].map((e) => e.userId))
    expect(messages.slice(1, 6).map((m) => m.properties.messageId)).to.deep.equal(ids)
    for (const m of messages) expect(m.properties.headers?.['x-request-id']).to.equal(requestId)
    expect(await raw.drain(tap)).to.have.length(0)
    // each message of the batch is logged on its own: `bazaar trace` lists all seven
    await waitFor(async () => (await relay.backlog()) === 0, { what: 'the outbox to be empty' })
    const logged = await db.withSchema(schema).table('event_log').where({ request_id: requestId }).pluck('message_id')
    expect(logged).to.have.members([messages[0]!.properties.messageId, ...ids, messages[6]!.properties.messageId])
    expect((await readRequestTrace(db, ns, ['users'], requestId))?.eventCount).to.equal(7)
  })

  it('lists the events of a batch row not relayed yet in the request trace', async () => {
    // a schema no relay reads: the batch row stays in its outbox
    const own = await busSchema(ns, 'pending')
    opened.push({ destroy: () => own.db.destroy() })
    const requestId = `pending-${Date.now()}`
    const ids = await own.db.transaction((trx) =>
      writeOutboxMany(trx, { namespace: ns, appId: 'users', schema: own.schema }, [registered(), registered()].map((payload) => ({ routingKey: USER_REGISTERED, payload, meta: { requestId } })))
    )
    const trace = await readRequestTrace(own.db, ns, ['pending'], requestId)
    expect(trace?.events.map((e) => e.messageId)).to.have.members(ids)
    expect(trace?.events.every((e) => e.relayedAt === undefined)).to.equal(true)
  })

  it('claims batch rows by the messages they carry: a claim of at most claimMessages messages takes one row of many', async () => {
    const own = await busSchema(ns, 'batches')
    opened.push({ destroy: () => own.db.destroy() })
    const ownIdentity = { namespace: ns, appId: 'users', schema: own.schema }
    const batches = Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => registered()))
    // committed together, before the relay starts: it finds all three rows at once
    await own.db.transaction(async (trx) => {
      for (const batch of batches) await writeOutboxMany(trx, ownIdentity, batch.map((payload) => ({ routingKey: USER_REGISTERED, payload })))
    })
    const batchRelay = new OutboxRelay({ db: own.db, databaseUrl: env.databaseUrl, schema: own.schema, namespace: ns, publisher: bus.publisher, claimMessages: 2 })
    const claims: number[] = []
    batchRelay.on('published', (count: number) => claims.push(count))
    await batchRelay.start()
    opened.unshift(batchRelay)
    expect((await raw.takeExactly(tap, 15)).map(userIdOf)).to.deep.equal(batches.flat().map((e) => e.userId))
    await waitFor(async () => claims.length === 3, { what: 'three claims published' })
    expect(claims).to.deep.equal([5, 5, 5])
  })

  it('claims rows by the primary key, never by reading the whole table (its dead rows grow until vacuumed)', async function () {
    this.timeout(40_000)
    // A schema of its own: nothing else reads this outbox, so its scan counters are the relay's alone.
    const own = await busSchema(ns, 'claims')
    opened.push({ destroy: () => own.db.destroy() })
    const claimRelay = new OutboxRelay({ db: own.db, databaseUrl: env.databaseUrl, schema: own.schema, namespace: ns, publisher: bus.publisher })
    await claimRelay.start()
    opened.unshift(claimRelay)
    const ownIdentity = { namespace: ns, appId: 'users', schema: own.schema }
    // one transaction each, as requests would: many small claims, each leaving dead rows behind
    const events = Array.from({ length: 200 }, () => registered())
    for (const event of events) await own.db.transaction((trx) => writeOutbox(trx, ownIdentity, USER_REGISTERED, event))
    expect(new Set((await raw.takeExactly(tap, 200)).map(userIdOf))).to.have.lengthOf(200)
    const scans = async () => {
      const row = await own.db('pg_stat_user_tables').where({ schemaname: own.schema, relname: 'outbox' }).first('seq_tup_read', 'idx_scan')
      return { seqRowsRead: Number(row.seq_tup_read), idx: Number(row.idx_scan) }
    }
    // The relay's connections report their counters once idle (within about a second). Rows read by
    // sequential scans, not the scans themselves: building the new table's indexes counts as two scans.
    await waitFor(async () => (await scans()).idx > 0, { timeoutMs: 20_000, what: "the relay's index scans in the statistics" })
    expect((await scans()).seqRowsRead).to.equal(0)
  })
})
