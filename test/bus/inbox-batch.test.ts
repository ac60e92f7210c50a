import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { createBusLane, type BusLane } from '../../shared/bus/lane.ts'
import { USER_REGISTERED, type UserRegistered } from '../../shared/contracts/user.ts'
import { currentContext } from '../../shared/log/context.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { busSchema, cleanUp, env, RawBroker, registered, startBus } from './support.ts'

/**
 * The same behaviour whichever way a batch runs its effects: one after the other on the service's pool, or
 * pipelined (started together on a connection of the bus lane).
 */
for (const pipelined of [false, true]) describe(`inbox with batched transactions${pipelined ? ', effects pipelined on the bus lane' : ''}`, () => {
  const ns = uniqueNamespace(pipelined ? 'inbox-batch-pipelined' : 'inbox-batch')
  let lane: BusLane | undefined
  let db: Knex
  let schema: string
  let bus: Bus
  let consumer: Consumer
  let raw: RawBroker
  const handled: Envelope[] = []
  /** per message id: the transaction its effect ran in, and the message id its work context named */
  const seen = new Map<string, { txid: string; contextMessageId?: string }>()
  /** user ids whose effect fails once after writing (a thrown error), or with a database error */
  const failOnce = new Set<string>()
  const sqlErrorOnce = new Set<string>()

  const balanceOf = async (userId: string) =>
    (await db.withSchema(schema).table('balances').where({ user_id: userId }).first())?.points as number | undefined
  const inboxRows = async (messageIds: string[]) =>
    Number((await db.withSchema(schema).table('inbox').whereIn('message_id', messageIds).count({ n: '*' }))[0]!.n)

  /** Publishes while the consumer is stopped, so the deliveries arrive together when it starts again. */
  const deliverTogether = async (publish: () => Promise<void>) => {
    await consumer.stop()
    await publish()
    await consumer.start()
  }
  /** One user.registered per user, each with its own message id, delivered together; returns the ids. */
  const registerTogether = async (users: UserRegistered[]) => {
    const ids = users.map(() => randomUUID())
    await deliverTogether(async () => {
      for (const [i, user] of users.entries()) {
        await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(user), { messageId: ids[i], contentType: 'application/json' })
      }
    })
    await waitFor(() => ids.every((id) => handled.some((m) => m.id === id)), { what: `all ${ids.length} deliveries to be handled` })
    return ids
  }

  before(async () => {
    ;({ db, schema } = await busSchema(ns, 'benefits'))
    await db.schema.withSchema(schema).createTable('balances', (t) => {
      t.string('user_id').primary()
      t.integer('points').notNullable()
    })
    if (pipelined) lane = createBusLane({ databaseUrl: env.databaseUrl, schema, max: 2 })
    raw = await RawBroker.open()
    bus = await startBus(ns, 'benefits')
    consumer = bus.consumer({
      service: 'benefits', purpose: 'welcome-points', bindings: [USER_REGISTERED], prefetch: 100,
      retry: { kind: 'delayed', delaysMs: [100] },
      handlers: {
        [USER_REGISTERED]: idempotent(
          { db, schema, consumer: 'welcome-points', lane, batch: { maxSize: 20, concurrency: 2, pipelined } },
          async (message, trx) => {
            const { payload } = message
            const { rows } = await trx.raw<{ rows: Array<{ txid: string }> }>('select txid_current()::text as txid')
            seen.set(message.id, { txid: rows[0]!.txid, contextMessageId: currentContext().messageId })
            // not idempotent by itself: run twice, it would credit twice
            await trx.withSchema(schema).table('balances').insert({ user_id: payload.userId, points: 0 }).onConflict('user_id').ignore()
            await trx.withSchema(schema).table('balances').where({ user_id: payload.userId }).increment('points', 100)
            if (sqlErrorOnce.delete(payload.userId)) await trx.raw('select 1 / 0')
            if (failOnce.delete(payload.userId)) throw new Error('failed after writing the effect')
          }
        )
      }
    })
    consumer.on('handled', (message: Envelope) => handled.push(message))
    await bus.startConsumers()
  })

  after(async () => {
    await cleanUp(ns, bus, raw, db)
    await lane?.end()
  })

  it('commits deliveries that arrive together in shared transactions, each effect once, in its own work context', async () => {
    const users = Array.from({ length: 120 }, () => registered())
    const ids = await registerTogether(users)
    for (const user of users) expect(await balanceOf(user.userId), user.userId).to.equal(100)
    expect(await inboxRows(ids)).to.equal(120)
    const transactions = new Set(ids.map((id) => seen.get(id)!.txid))
    expect(transactions.size, 'transactions for 120 deliveries').to.be.lessThan(60)
    for (const id of ids) expect(seen.get(id)!.contextMessageId).to.equal(id)
  })

  it('a message delivered twice in one batch, or again later, has one effect', async () => {
    const user = registered()
    const messageId = randomUUID()
    const others = Array.from({ length: 10 }, () => registered())
    await deliverTogether(async () => {
      await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(user), { messageId, contentType: 'application/json' })
      for (const other of others) await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(other), { contentType: 'application/json' })
      await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(user), { messageId, contentType: 'application/json' })
    })
    await waitFor(() => handled.filter((m) => m.id === messageId).length === 2, { what: 'both deliveries to be handled' })
    await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(user), { messageId, contentType: 'application/json' })
    await waitFor(() => handled.filter((m) => m.id === messageId).length === 3, { what: 'the third delivery to be handled' })
    expect(await balanceOf(user.userId)).to.equal(100)
    expect(await inboxRows([messageId])).to.equal(1)
    for (const other of others) expect(await balanceOf(other.userId)).to.equal(100)
  })

  it('an effect that fails in a batch is rolled back alone (its inbox row too) and retried; the others commit at once', async () => {
    const users = Array.from({ length: 30 }, () => registered())
    const failing = [users[3]!, users[17]!]
    const sqlFailing = users[25]!
    for (const user of failing) failOnce.add(user.userId)
    sqlErrorOnce.add(sqlFailing.userId)
    const ids = await registerTogether(users)
    for (const user of users) expect(await balanceOf(user.userId), user.userId).to.equal(100)
    expect(await inboxRows(ids)).to.equal(30)
    const retried = new Set([...failing, sqlFailing].map((u) => ids[users.indexOf(u)]!))
    for (const id of ids) {
      const attempts = handled.filter((m) => m.id === id).map((m) => m.attempt)
      expect(attempts, id).to.deep.equal(retried.has(id) ? [2] : [1])
    }
  })
})
