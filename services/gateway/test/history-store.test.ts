import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { ORDER_CREATED } from '../../../shared/contracts/index.ts'
import { createKnex, schemaName } from '../../../shared/db/database.ts'
import { migrate } from '../../../shared/db/migrations.ts'
import { dropNamespaceSchemas, testEnv, uniqueNamespace } from '../../../shared/testing/index.ts'
import { busMigrations } from '../../../shared/bus/outbox-table.ts'
import { EventStore } from '../history/store.ts'
import { migrations } from '../migrations/index.ts'
import { anOrder } from './support.ts'

/**
 * The history grows all day; recording an event (on every push) and checking
 * an acknowledgement (on every printed receipt) must stay index probes. The
 * counters of `pg_stat_xact_user_tables`, read before and after inside one
 * transaction, show how the table was read: a sequential scan there is a
 * cost that grows with the history.
 */
describe('gateway: the history is probed by index, however large it grows', function () {
  const namespace = uniqueNamespace('gateway-history')
  const schema = schemaName(namespace, 'gateway')
  let db: Knex

  before(async () => {
    db = createKnex(testEnv(namespace).databaseUrl, schema, { min: 1, max: 1 })
    await migrate(db, schema, [...busMigrations, ...migrations])
  })

  after(async () => {
    await db?.destroy()
    await dropNamespaceSchemas(namespace)
  })

  /** Runs `work` in a transaction on the one pooled connection and returns how `events` was scanned in it. */
  async function scansOf(work: (store: EventStore) => Promise<unknown>): Promise<{ seq: number; idx: number }> {
    return db.transaction(async (trx) => {
      // The view also holds counts of earlier transactions not yet flushed to the shared statistics
      // (that happens only between transactions): the difference is this transaction's own.
      const counters = async () => {
        const row = await trx('pg_stat_xact_user_tables').where({ schemaname: schema, relname: 'events' }).first('seq_scan', 'idx_scan')
        return { seq: Number(row.seq_scan), idx: Number(row.idx_scan) }
      }
      const before = await counters()
      await work(new EventStore(trx, schema, 3_600_000))
      const after = await counters()
      return { seq: after.seq - before.seq, idx: after.idx - before.idx }
    })
  }

  const recordOrder = (store: EventStore, sellerId: string) => {
    const order = anOrder(sellerId, randomUUID())
    return store.record(randomUUID(), ORDER_CREATED, order).then(() => order)
  }

  it('gives an event the same id the second time without asking the database (both of its paths reach one instance)', async () => {
    const store = new EventStore(db, schema, 3_600_000)
    const messageId = randomUUID()
    const order = anOrder(randomUUID(), randomUUID())
    const first = await store.record(messageId, ORDER_CREATED, order)
    const queries: string[] = []
    const onQuery = (query: { sql: string }) => queries.push(query.sql)
    db.on('query', onQuery)
    const second = await store.record(messageId, ORDER_CREATED, order).finally(() => db.off('query', onQuery))
    expect(second.id).to.equal(first.id)
    expect(queries).to.deep.equal([])
    // another instance (its own store) has not seen it: it reads the same id from the history
    expect((await new EventStore(db, schema, 3_600_000).record(messageId, ORDER_CREATED, order)).id).to.equal(first.id)
  })

  it('records and acknowledges without scanning, also with plans cached while the table was empty', async () => {
    const sellerId = randomUUID()
    // Plans PL/pgSQL caches on this connection while `events` is empty (the first calls after a deploy).
    for (let i = 0; i < 8; i++) await scansOf((store) => recordOrder(store, sellerId))
    // A day's history, written straight into the table.
    await db.raw(
      `insert into ??.events (id, message_id, routing_key, payload, audiences, seller_id, order_id)
       select 1000 + n, 'filler-' || n, ?, '{}'::jsonb, array['seller:' || (n % 50)], 'seller-' || (n % 50), 'order-' || n
       from generate_series(1, 20000) as n`,
      [schema, ORDER_CREATED]
    )
    await db.raw('analyze ??.events', [schema])

    let order = anOrder(sellerId, randomUUID())
    const recording = await scansOf(async (store) => (order = await recordOrder(store, sellerId)))
    expect(recording.seq, 'sequential scans of events while recording').to.equal(0)
    expect(recording.idx).to.be.greaterThan(0)

    const again = await scansOf((store) => store.recordMany([{ messageId: `filler-${7}`, routingKey: ORDER_CREATED, payload: order }]))
    expect(again.seq, 'sequential scans of events when the event is already recorded').to.equal(0)

    const applianceId = randomUUID()
    await db(`${schema}.appliances`).insert({ id: applianceId, seller_id: sellerId, name: 'printer', token_hash: randomUUID() })
    // Several times: the statement is prepared, and from the sixth run on PostgreSQL may keep one generic plan.
    for (let i = 0; i < 8; i++) {
      const acknowledging = await scansOf(async (store) => {
        expect(await store.acknowledge({ id: applianceId, sellerId }, order.orderId)).to.have.property('ackedAt')
      })
      expect(acknowledging.seq, `sequential scans of events while acknowledging (${i + 1})`).to.equal(0)
    }
  })
})
