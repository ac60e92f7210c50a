import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { createKnex } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { Iterator } from '../../shared/iterator/iterator.ts'
import { iteratorAttemptsMigration, iteratorMigration } from '../../shared/iterator/tables.ts'
import { dropNamespaceSchemas, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { readEnv } from '../../shared/config/env.ts'

const ns = uniqueNamespace('iterator')
const schema = `${ns}_iter`

/** The shared iterator on its own (real database): pause and resume, and a step that keeps failing. */
describe('iterator: pause and resume, and a bounded retry of a failing step', function () {
  const { databaseUrl } = readEnv()
  let db: Knex
  let iterator: Iterator
  const steps = new Map<string, number[]>()
  let stepsAfterPause = 0
  let paused = false
  const failures: Array<{ id: string; reason: string }> = []

  const iteration = (id: string) => db.withSchema(schema).table('iterations').where({ id }).first()
  const start = (kind: string, id: string) => db.transaction((trx) => iterator.start(trx, kind, id, 0))

  before(async function () {
    db = createKnex(databaseUrl, schema, { min: 0, max: 4 })
    await migrate(db, schema, [iteratorMigration, iteratorAttemptsMigration])
    iterator = new Iterator({ db, databaseUrl, schema, leaseMs: 2_000, maxAttempts: 3, retryBaseMs: 50 })
    // counts to 40, one step at a time, each step in its own transaction with the cursor
    iterator.define<number>('count', {
      step: async (_trx, { id, cursor }) => {
        if (paused) stepsAfterPause++
        steps.set(id, [...(steps.get(id) ?? []), cursor])
        return { cursor: cursor + 1, done: cursor + 1 >= 40 }
      }
    })
    iterator.define<number>('broken', {
      step: async () => {
        throw new Error('the database said no')
      },
      failed: async (trx, { id, reason }) => {
        // in the transaction that marks the job failed: its writes commit with it
        await trx.raw('select 1')
        failures.push({ id, reason })
      }
    })
    await iterator.startRunner()
  })

  after(async function () {
    await iterator?.stop()
    await db?.destroy()
    await dropNamespaceSchemas(ns)
  })

  it('pauses: no step runs while paused, and resumes where it stood, every cursor once', async function () {
    const id = randomUUID()
    // started and paused in one transaction: no step can run before the pause
    await db.transaction(async (trx) => {
      await iterator.start(trx, 'count', id, 0)
      expect(await iterator.pause(trx, id)).to.equal(true)
    })
    paused = true
    // nothing to wait on for "nothing happens": a window long enough for the 40 steps had it run
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(stepsAfterPause).to.equal(0)
    expect((await iteration(id)).state).to.equal('paused')
    expect(await db.transaction((trx) => iterator.pause(trx, id))).to.equal(false) // paused already

    paused = false
    expect(await db.transaction((trx) => iterator.resume(trx, id))).to.equal(true)
    await waitFor(async () => (await iteration(id)).state === 'done', { timeoutMs: 10_000, what: 'the resumed job to finish' })
    expect(steps.get(id)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i))
    const row = await iteration(id)
    expect(row.cursor).to.equal(40)
    expect(row.steps).to.equal(40)
  })

  it('pauses mid-way: the step in flight commits, none after it; resumed, it goes on from that cursor', async function () {
    const id = randomUUID()
    await start('count', id)
    await waitFor(async () => (await iteration(id)).cursor >= 5, { what: 'a few steps' })
    await db.transaction((trx) => iterator.pause(trx, id))
    paused = true
    const atPause = (await iteration(id)).cursor
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(stepsAfterPause).to.equal(0)
    expect((await iteration(id)).cursor).to.equal(atPause)
    paused = false
    await db.transaction((trx) => iterator.resume(trx, id))
    await waitFor(async () => (await iteration(id)).state === 'done', { timeoutMs: 10_000, what: 'the resumed job to finish' })
    // every cursor stepped exactly once across the pause
    expect(steps.get(id)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i))
  })

  it('a step that keeps failing is retried with a growing wait, then the job fails and `failed` is called once with the reason', async function () {
    const id = randomUUID()
    const started = Date.now()
    await start('broken', id)
    const row = await waitFor(async () => {
      const r = await iteration(id)
      return r.state === 'failed' && r
    }, { timeoutMs: 10_000, what: 'the job to fail' })
    expect(row.attempts).to.equal(3)
    expect(row.last_error).to.equal('the database said no')
    expect(row.lease_owner).to.equal(null)
    // waits of 50 ms then 100 ms between the three attempts
    expect(Date.now() - started).to.be.at.least(150)
    expect(failures.filter((f) => f.id === id)).to.deep.equal([{ id, reason: 'the database said no' }])
  })

  it('a job that succeeds after failures has its attempts reset', async function () {
    let fail = 2
    iterator.define<number>('flaky', {
      step: async (_trx, { cursor }) => {
        if (fail-- > 0) throw new Error('not yet')
        return { cursor: cursor + 1, done: true }
      }
    })
    const id = randomUUID()
    await start('flaky', id)
    const row = await waitFor(async () => {
      const r = await iteration(id)
      return r.state === 'done' && r
    }, { timeoutMs: 10_000, what: 'the flaky job to finish' })
    expect(row.attempts).to.equal(0)
    expect(row.cursor).to.equal(1)
  })
})
