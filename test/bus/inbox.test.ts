import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { InboxJanitor, idempotent } from '../../shared/bus/inbox.ts'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { busSchema, cleanUp, RawBroker, registered, startBus } from './support.ts'

describe('inbox (idempotent consumer)', () => {
  const ns = uniqueNamespace('inbox')
  let db: Knex
  let schema: string
  let bus: Bus
  let consumer: Consumer
  let raw: RawBroker
  const handled: Envelope[] = []
  /** user ids whose effect should fail once, after writing it */
  const failOnce = new Set<string>()

  const balanceOf = async (userId: string) =>
    (await db.withSchema(schema).table('balances').where({ user_id: userId }).first())?.points as number | undefined
  const inboxRows = async (messageId: string) =>
    Number((await db.withSchema(schema).table('inbox').where({ message_id: messageId }).count({ n: '*' }))[0]!.n)

  before(async () => {
    ;({ db, schema } = await busSchema(ns, 'benefits'))
    await db.schema.withSchema(schema).createTable('balances', (t) => {
      t.string('user_id').primary()
      t.integer('points').notNullable()
    })
    raw = await RawBroker.open()
    bus = await startBus(ns, 'benefits')
    consumer = bus.consumer({
      service: 'benefits', purpose: 'welcome-points', bindings: [USER_REGISTERED],
      retry: { kind: 'delayed', delaysMs: [100] },
      handlers: {
        [USER_REGISTERED]: idempotent({ db, schema, consumer: 'welcome-points' }, async ({ payload }, trx) => {
          // not idempotent by itself: run twice, it would credit twice
          await trx.withSchema(schema).table('balances').insert({ user_id: payload.userId, points: 0 }).onConflict('user_id').ignore()
          await trx.withSchema(schema).table('balances').where({ user_id: payload.userId }).increment('points', 100)
          if (failOnce.delete(payload.userId)) throw new Error('failed after writing the effect')
        })
      }
    })
    consumer.on('handled', (message: Envelope) => handled.push(message))
    await bus.startConsumers()
  })

  after(() => cleanUp(ns, bus, raw, db))

  it('the same message delivered twice has one effect', async () => {
    const user = registered()
    const messageId = randomUUID()
    for (let i = 0; i < 2; i++) {
      await raw.publishEvent(ns, USER_REGISTERED, JSON.stringify(user), { messageId, contentType: 'application/json' })
    }
    await waitFor(() => handled.filter((m) => m.id === messageId).length === 2, { what: 'both deliveries to be handled' })
    expect(await balanceOf(user.userId)).to.equal(100)
    expect(await inboxRows(messageId)).to.equal(1)
  })

  it('an effect that fails leaves no inbox row, so its retry has the effect once', async () => {
    const user = registered()
    failOnce.add(user.userId)
    const { messageId } = await bus.publisher.publish(USER_REGISTERED, user)
    await waitFor(() => handled.some((m) => m.id === messageId), { what: 'the retried delivery to be handled' })
    expect(await balanceOf(user.userId)).to.equal(100)
    expect(await inboxRows(messageId)).to.equal(1)
  })

  it('the janitor removes inbox rows past retention and keeps the rest', async () => {
    const old = { consumer: 'janitor-test', message_id: randomUUID(), processed_at: new Date(Date.now() - 2 * 3_600_000) }
    const recent = { consumer: 'janitor-test', message_id: randomUUID(), processed_at: new Date(Date.now() - 60_000) }
    await db.withSchema(schema).table('inbox').insert([old, recent])
    const janitor = new InboxJanitor({ db, schema, retentionMs: 3_600_000, intervalMs: 50 })
    janitor.start()
    try {
      await waitFor(async () => (await inboxRows(old.message_id)) === 0, { what: 'the old row to be swept' })
    } finally {
      janitor.stop()
    }
    expect(await inboxRows(recent.message_id)).to.equal(1)
    expect(await janitor.sweep(), 'nothing left to remove').to.equal(0)
  })
})
