import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import { isJobError, type Jobs } from '../../shared/jobs/index.ts'
import { PgListener } from '../../shared/db/listener.ts'
import { jobsChannel } from '../../shared/jobs/index.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { JobsHarness, recordEffect } from './support.ts'

describe('scheduleMany: many jobs in one insert, with schedule()\'s key semantics', () => {
  const ns = uniqueNamespace('schedule-many')
  const harness = new JobsHarness(ns)
  let jobs: Jobs
  const notifications: string[] = []
  let listener: PgListener

  before(async () => {
    await harness.migrate()
    jobs = harness.jobs()
    jobs.define('remind', { payload: Type.Object({ n: Type.Integer() }, { additionalProperties: false }), handler: (job, trx) => recordEffect(trx, job) })
    listener = new PgListener({ databaseUrl: harness.databaseUrl, channel: jobsChannel(harness.schema), onNotification: (p) => notifications.push(p) })
    await listener.start()
    await jobs.start()
  })

  after(async () => {
    await listener.stop()
    await harness.close()
  })

  // NOTIFYs of earlier calls may still be on their way to the listener: PostgreSQL delivers them in commit
  // order, so once a barrier sent now has arrived, every earlier one has too and a count can start
  let barriers = 0
  const notificationsSettled = async () => {
    const barrier = `barrier-${++barriers}`
    await harness.db.raw('select pg_notify(?, ?)', [jobsChannel(harness.schema), barrier])
    await waitFor(() => notifications.includes(barrier), { timeoutMs: 5_000, what: 'the barrier NOTIFY' })
    return notifications.length
  }

  const pending = (key: string) => harness.db('jobs').where({ name: 'remind', key, state: 'pending' })

  it('inserts 2,000 jobs in one call, each run once, with one NOTIFY for the call', async () => {
    const before = await notificationsSettled()
    const scheduled = await harness.db.transaction((trx) =>
      jobs.scheduleMany(trx, 'remind', Array.from({ length: 2_000 }, (_, n) => ({ payload: { n }, ...(n % 2 ? { runAt: { delayMs: 50 } } : {}) })))
    )
    expect(scheduled).to.have.length(2_000)
    expect(new Set(scheduled.map((s) => s.id)).size).to.equal(2_000)
    expect(scheduled.every((s) => s.created)).to.equal(true)
    await waitFor(async () => (await harness.effects('remind')).length === 2_000, { timeoutMs: 20_000, what: '2,000 effects' })
    // effects has the job id as primary key: a second run would have failed; every job is done
    const states = await harness.allJobs().whereIn('id', scheduled.map((s) => s.id)).select('state').groupBy('state').count({ n: '*' })
    expect(states).to.deep.equal([{ state: 'done', n: '2000' }])
    const effects = await harness.effects('remind')
    expect(effects.map((e) => (e.payload as { n: number }).n).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 2_000 }, (_, n) => n))
    await notificationsSettled()
    expect(notifications.slice(before).filter((p) => p === '1')).to.have.length(1)
    // outside a transaction: its own, whose commit carries the one NOTIFY
    await jobs.scheduleMany(harness.db, 'remind', [{ payload: { n: 2_000 } }, { payload: { n: 2_001 } }])
    await waitFor(() => notifications.slice(before).filter((p) => p === '1').length === 2, { timeoutMs: 5_000, what: 'the second NOTIFY' })
    await waitFor(async () => (await harness.effects('remind')).length === 2_002, { timeoutMs: 5_000, what: 'the two jobs run' })
  })

  it('refuses the whole call for a key already pending or given twice, inserting nothing', async () => {
    await jobs.schedule(harness.db, 'remind', { key: 'taken', runAt: { delayMs: 60_000 }, payload: { n: 0 } })
    const existing = await jobs
      .scheduleMany(harness.db, 'remind', [{ key: 'fresh-1', runAt: { delayMs: 60_000 }, payload: { n: 1 } }, { key: 'taken', runAt: { delayMs: 60_000 }, payload: { n: 2 } }])
      .catch((e) => e)
    expect(isJobError(existing, 'DUPLICATE_KEY'), String(existing)).to.equal(true)
    expect(existing.message).to.contain('"taken"')
    const twice = await jobs
      .scheduleMany(harness.db, 'remind', [{ key: 'fresh-2', payload: { n: 1 } }, { key: 'fresh-2', payload: { n: 2 } }])
      .catch((e) => e)
    expect(isJobError(twice, 'DUPLICATE_KEY'), String(twice)).to.equal(true)
    expect(await harness.db('jobs').whereIn('key', ['fresh-1', 'fresh-2'])).to.have.length(0)
    expect(await pending('taken')).to.have.length(1)
  })

  it('keeps the first job of a key (pending or earlier in the call), never doubling it', async () => {
    const first = await jobs.schedule(harness.db, 'remind', { key: 'kept', runAt: { delayMs: 60_000 }, payload: { n: 1 } })
    const [a, b, c, d] = await jobs.scheduleMany(
      harness.db,
      'remind',
      [
        { key: 'kept', runAt: { delayMs: 60_000 }, payload: { n: 2 } },
        { key: 'new', runAt: { delayMs: 60_000 }, payload: { n: 3 } },
        { key: 'new', runAt: { delayMs: 90_000 }, payload: { n: 4 } },
        { runAt: { delayMs: 60_000 }, payload: { n: 5 } }
      ],
      { onConflict: 'keep' }
    )
    expect(a).to.deep.equal({ id: first.id, created: false })
    expect(b!.created).to.equal(true)
    expect(c).to.deep.equal({ id: b!.id, created: false })
    expect(d!.created).to.equal(true)
    expect((await pending('kept')).map((r) => r.payload)).to.deep.equal([{ n: 1 }])
    expect((await pending('new')).map((r) => r.payload)).to.deep.equal([{ n: 3 }])
  })

  it('replaces with the last job of a key, keeping the first id, never doubling it', async () => {
    const first = await jobs.schedule(harness.db, 'remind', { key: 'swap', runAt: { delayMs: 60_000 }, payload: { n: 1 } })
    const later = new Date(Date.now() + 120_000)
    const results = await jobs.scheduleMany(
      harness.db,
      'remind',
      [
        { key: 'swap', runAt: { delayMs: 60_000 }, payload: { n: 2 } },
        { key: 'swap-new', runAt: { delayMs: 60_000 }, payload: { n: 3 } },
        { key: 'swap', runAt: later, payload: { n: 4 } },
        { key: 'swap-new', runAt: later, payload: { n: 5 } }
      ],
      { onConflict: 'replace' }
    )
    expect(results[0]).to.deep.equal({ id: first.id, created: false })
    expect(results[1]!.created).to.equal(true)
    expect(results[2]).to.deep.equal({ id: first.id, created: false })
    expect(results[3]).to.deep.equal({ id: results[1]!.id, created: false })
    for (const [key, n] of [['swap', 4], ['swap-new', 5]] as const) {
      const rows = await pending(key)
      expect(rows.map((r) => r.payload), key).to.deep.equal([{ n }])
      expect(rows[0].run_at.getTime(), key).to.equal(later.getTime())
    }
  })

  it('refuses a payload that fails the schema, naming the job, before any insert', async () => {
    const before = await harness.db('jobs').count({ n: '*' })
    const refused = await jobs
      .scheduleMany(harness.db, 'remind', [{ payload: { n: 1 } }, { payload: { n: 'two' } as unknown as { n: number } }])
      .catch((e) => e)
    expect(isJobError(refused, 'CONTRACT_VIOLATION'), String(refused)).to.equal(true)
    expect(refused.message).to.match(/^jobs\[1\]/)
    expect(await harness.db('jobs').count({ n: '*' })).to.deep.equal(before)
  })

  it('outside a transaction, without keys: one statement with its NOTIFY, each job run once', async () => {
    const before = await notificationsSettled()
    const scheduled = await jobs.scheduleMany(harness.db, 'remind', Array.from({ length: 300 }, (_, n) => ({ payload: { n: 10_000 + n }, runAt: { delayMs: 50 } })))
    expect(scheduled.every((s) => s.created)).to.equal(true)
    const ids = scheduled.map((s) => s.id)
    await waitFor(async () => (await harness.db('effects').whereIn('job_id', ids)).length === 300, { timeoutMs: 10_000, what: '300 effects' })
    expect(await harness.allJobs().whereIn('id', ids).select('state').groupBy('state').count({ n: '*' })).to.deep.equal([{ state: 'done', n: '300' }])
    await notificationsSettled()
    expect(notifications.slice(before).filter((p) => p === '1'), 'one NOTIFY for the call').to.have.length(1)
  })
})
