import { expect } from 'chai'
import type { GetMessage } from 'amqplib'
import type { Knex } from 'knex'
import type { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import { writeOutbox } from '../../shared/bus/outbox.ts'
import { OutboxRelay } from '../../shared/bus/outbox-relay.ts'
import { createBusLane, type BusLane } from '../../shared/bus/lane.ts'
import { sqlTransaction, withConnection, withLaneConnection } from '../../shared/bus/sql.ts'
import { USER_REGISTERED, type UserRegistered } from '../../shared/contracts/user.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { busSchema, cleanUp, env, RawBroker, registered, startBus } from './support.ts'

describe("outbox written in a sqlTransaction (plain SQL on the bus's pipelined lane)", () => {
  const ns = uniqueNamespace('sqltx')
  let db: Knex
  let lane: BusLane
  let schema: string
  let bus: Bus
  let relay: OutboxRelay
  let raw: RawBroker
  let tap: string

  const identity = () => ({ namespace: ns, appId: 'users', schema })
  const userIdOf = (message: GetMessage) => (JSON.parse(message.content.toString()) as UserRegistered).userId
  const insertUser = () => `insert into "${schema}".users (id, email) values ($1, $2)`
  const usersNamed = async (id: string) => Number((await db.withSchema(schema).table('users').where({ id }).count({ n: '*' }))[0]!.n)

  before(async () => {
    ;({ db, schema } = await busSchema(ns, 'users'))
    await db.schema.withSchema(schema).createTable('users', (t) => {
      t.uuid('id').primary()
      t.string('email').notNullable().unique()
    })
    raw = await RawBroker.open()
    bus = await startBus(ns, 'users')
    tap = (await raw.channel.assertQueue('', { exclusive: true })).queue
    await raw.channel.bindQueue(tap, names.eventsExchange(ns), 'user.#')
    lane = createBusLane({ databaseUrl: env.databaseUrl, max: 2, schema })
    relay = new OutboxRelay({ db, databaseUrl: env.databaseUrl, schema, namespace: ns, publisher: bus.publisher, retryDelayMs: 100 })
    await relay.start()
  })

  after(async () => {
    await lane.end()
    await cleanUp(ns, relay, bus, raw, db)
  })

  it('publishes the event of a committed transaction once, with its state change', async () => {
    const user = registered()
    const value = await sqlTransaction(lane, async (tx) => {
      await tx.query(insertUser(), [user.userId, user.email])
      await writeOutbox(tx, identity(), USER_REGISTERED, user)
      return 'done'
    })
    expect(value).to.equal('done')
    const [message] = await raw.takeExactly(tap, 1)
    expect(userIdOf(message!)).to.equal(user.userId)
    expect(await usersNamed(user.userId)).to.equal(1)
    await waitFor(async () => (await relay.backlog()) === 0, { what: 'the outbox to be empty' })
  })

  it('publishes nothing and keeps nothing when the work throws, or when a statement sent without waiting fails', async () => {
    const thrown = registered()
    const failure = await sqlTransaction(lane, async (tx) => {
      await tx.query(insertUser(), [thrown.userId, thrown.email])
      await writeOutbox(tx, identity(), USER_REGISTERED, thrown)
      throw new Error('the state change failed')
    }).then(() => undefined, (err: Error) => err)
    expect(failure?.message).to.equal('the state change failed')

    // the same message id twice: the second outbox row breaks the unique index, found only at COMMIT
    const twice = registered()
    const duplicate = await sqlTransaction(lane, async (tx) => {
      tx.defer(insertUser(), [twice.userId, twice.email])
      await writeOutbox(tx, identity(), USER_REGISTERED, twice, { messageId: `dup-${twice.userId}` })
      await writeOutbox(tx, identity(), USER_REGISTERED, twice, { messageId: `dup-${twice.userId}` })
    }).then(() => undefined, (err: Error) => err)
    expect(duplicate?.message).to.match(/duplicate key/)

    const marker = registered()
    await sqlTransaction(lane, (tx) => writeOutbox(tx, identity(), USER_REGISTERED, marker))
    const [only] = await raw.takeExactly(tap, 1)
    expect(userIdOf(only!)).to.equal(marker.userId)
    expect(await raw.drain(tap)).to.have.length(0)
    expect(await usersNamed(thrown.userId)).to.equal(0)
    expect(await usersNamed(twice.userId)).to.equal(0)
  })

  it("runs on the bus's own pipelined pool and leaves the service's knex pool as it is", async () => {
    for (let i = 0; i < 20; i++) await sqlTransaction(lane, (tx) => tx.query('select 1'))
    const laneModes = await Promise.all(Array.from({ length: 2 }, () => withLaneConnection(lane, async (sql) => sql.client.pipeline)))
    expect(laneModes).to.deep.equal([true, true])
    const knexModes = await Promise.all(Array.from({ length: 10 }, () => withConnection(db, async (client) => client.pipeline)))
    expect(knexModes.every((m) => m === false)).to.equal(true)
    const user = registered()
    await db.transaction(async (trx) => {
      await trx.withSchema(schema).table('users').insert({ id: user.userId, email: user.email })
      await writeOutbox(trx, identity(), USER_REGISTERED, user)
    })
    expect(userIdOf((await raw.takeExactly(tap, 1))[0]!)).to.equal(user.userId)
  })

  it('keeps each pipelined answer with its statement, and a failed transaction does not spoil the connection for the next', async () => {
    const single = createBusLane({ databaseUrl: env.databaseUrl, max: 1, schema })
    try {
      const users = Array.from({ length: 30 }, () => registered())
      // Every other transaction fails at COMMIT (its deferred insert repeats the email of the one before): all share one connection.
      const outcomes = await Promise.all(
        users.map((user, i) =>
          sqlTransaction(single, async (tx) => {
            const email = i % 2 === 1 ? users[i - 1]!.email : user.email
            tx.defer(insertUser(), [user.userId, email])
            const { rows } = await tx.query<{ n: number }>('select $1::int as n', [i])
            return rows[0]!.n
          }).then((n) => n, (err: Error) => err.message)
        )
      )
      outcomes.forEach((outcome, i) => {
        if (i % 2 === 0) expect(outcome).to.equal(i)
        else expect(outcome).to.match(/duplicate key|current transaction is aborted/)
      })
      for (const [i, user] of users.entries()) expect(await usersNamed(user.userId)).to.equal(i % 2 === 0 ? 1 : 0)
    } finally {
      await single.end()
    }
  })
})
