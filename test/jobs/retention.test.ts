import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import type { FiredJob, Jobs } from '../../shared/jobs/index.ts'
import { sweepFinishedJobs, SWEEP_BATCH } from '../../shared/jobs/retention.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { JobsHarness, recordEffect } from './support.ts'

const TEN_MINUTES = 600_000

describe('finished jobs: their record and its retention (shared/jobs)', () => {
  const ns = uniqueNamespace('jobs-retention')
  const harness = new JobsHarness(ns)
  let jobs: Jobs

  before(async () => {
    await harness.migrate()
    // a short retention, swept at every planner pass (the default: 7 days, at most once a minute)
    jobs = harness.jobs({ retentionMs: TEN_MINUTES, sweepEveryMs: 0 })
    jobs.define('remind', { payload: Type.Object({ n: Type.Integer() }), handler: async (job, trx) => recordEffect(trx, job) })
    await jobs.start()
  })

  after(async () => {
    await harness.close()
  })

  const anHourAgo = () => new Date(Date.now() - 3_600_000)
  const oldDone = (n: number) =>
    Array.from({ length: n }, () => ({
      id: randomUUID(), name: 'remind', payload: '{}', attempts: 1, run_at: anHourAgo(), due_at: anHourAgo(), created_at: anHourAgo(), finished_at: anHourAgo()
    }))

  it('moves a done job out of `jobs` into its record, in the transaction of its effect', async () => {
    const fired = nextEvent<FiredJob>(jobs, 'fired', { timeoutMs: 5_000, filter: (j) => j.key === 'moved' })
    const { id } = await jobs.schedule(harness.db, 'remind', { key: 'moved', payload: { n: 1 } })
    await fired
    expect(await harness.db('jobs').where({ id })).to.have.length(0)
    const record = await harness.db('jobs_done').where({ id }).first()
    expect(record).to.include({ name: 'remind', key: 'moved', attempts: 1 })
    expect(record.payload).to.deep.equal({ n: 1 })
    expect(await harness.db('effects').where({ job_id: id })).to.have.length(1)
  })

  it('sweeps finished records past the retention, and nothing else', async () => {
    const old = oldDone(3)
    await harness.db('jobs_done').insert(old)
    const failed = { id: randomUUID(), name: 'remind', payload: '{}', state: 'failed', run_at: anHourAgo(), due_at: anHourAgo(), created_at: anHourAgo(), finished_at: anHourAgo() }
    // pending and created an hour ago, due in an hour: never swept, whatever its age
    const pending = { id: randomUUID(), name: 'remind', payload: '{"n":2}', run_at: new Date(Date.now() + 3_600_000), due_at: new Date(Date.now() + 3_600_000), created_at: anHourAgo() }
    await harness.db('jobs').insert([failed, pending])
    const fired = nextEvent<FiredJob>(jobs, 'fired', { timeoutMs: 5_000, filter: (j) => j.key === 'recent' })
    // a write wakes the planner, which sweeps on its pass
    const { id: recent } = await jobs.schedule(harness.db, 'remind', { key: 'recent', payload: { n: 3 } })
    await fired
    await waitFor(async () => (await harness.db('jobs_done').whereIn('id', old.map((o) => o.id))).length === 0 && (await harness.job(failed.id)) === undefined, {
      timeoutMs: 5_000,
      what: 'the old records swept'
    })
    expect(await harness.job(pending.id)).to.include({ state: 'pending' })
    expect(await harness.job(recent)).to.include({ state: 'done' })
  })

  it('sweeps in small batches until nothing old is left', async () => {
    const sweepOnly = new JobsHarness(uniqueNamespace('jobs-sweep'))
    try {
      await sweepOnly.migrate()
      await sweepOnly.db('jobs_done').insert(oldDone(SWEEP_BATCH * 2 + 500))
      await sweepOnly.db('jobs_done').insert({ ...oldDone(1)[0]!, finished_at: new Date() })
      expect(await sweepFinishedJobs(sweepOnly.db, sweepOnly.schema, TEN_MINUTES)).to.equal(SWEEP_BATCH * 2 + 500)
      expect(Number((await sweepOnly.db('jobs_done').count({ n: '*' }))[0]!.n)).to.equal(1)
      expect(await sweepFinishedJobs(sweepOnly.db, sweepOnly.schema, TEN_MINUTES)).to.equal(0)
    } finally {
      await sweepOnly.close()
    }
  })
})
