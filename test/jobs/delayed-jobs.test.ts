import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import { isJobError, type FiredJob, type Jobs } from '../../shared/jobs/index.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { JobsHarness, recordEffect } from './support.ts'

const reminder = Type.Object({ claimId: Type.String() }, { additionalProperties: false })

describe('delayed jobs (shared/jobs)', () => {
  const ns = uniqueNamespace('delayed-jobs')
  const harness = new JobsHarness(ns)
  let jobs: Jobs
  const failFor = new Set<string>()

  before(async () => {
    await harness.migrate()
    jobs = harness.jobs()
    jobs.define('remind', {
      payload: reminder,
      retry: { delaysMs: [50, 50] },
      handler: async (job, trx) => {
        await recordEffect(trx, job)
        if (failFor.has(job.payload.claimId)) throw new Error(`no reminder for ${job.payload.claimId}`)
      }
    })
    await jobs.start()
  })

  after(async () => {
    await harness.close()
  })

  it('runs a job once, at its due time by the database clock, and tells how late it started', async () => {
    const fired = nextEvent<FiredJob>(jobs, 'fired', { timeoutMs: 5_000, filter: (j) => j.key === 'on-time' })
    const { id, created } = await jobs.schedule(harness.db, 'remind', { key: 'on-time', runAt: { delayMs: 300 }, payload: { claimId: 'c1' } })
    expect(created).to.equal(true)
    const job = await fired
    expect(job.id).to.equal(id)
    expect(job.latenessMs).to.be.lessThan(100)
    expect(job.committedLatenessMs).to.be.at.least(job.latenessMs)
    const [effect] = await harness.effects()
    const row = await harness.job(id)
    expect(row.state).to.equal('done')
    expect(effect!.at.getTime()).to.be.at.least(row.due_at.getTime())
  })

  it('refuses, keeps or replaces a second job with the same key, never doubling it', async () => {
    const first = await jobs.schedule(harness.db, 'remind', { key: 'k', runAt: { delayMs: 60_000 }, payload: { claimId: 'a' } })
    const refused = await jobs.schedule(harness.db, 'remind', { key: 'k', runAt: { delayMs: 60_000 }, payload: { claimId: 'b' } }).catch((e) => e)
    expect(isJobError(refused, 'DUPLICATE_KEY'), String(refused)).to.equal(true)
    const kept = await jobs.schedule(harness.db, 'remind', { key: 'k', runAt: { delayMs: 60_000 }, payload: { claimId: 'b' }, onConflict: 'keep' })
    expect(kept).to.deep.equal({ id: first.id, created: false })
    const replaced = await jobs.schedule(harness.db, 'remind', { key: 'k', runAt: { delayMs: 120_000 }, payload: { claimId: 'c' }, onConflict: 'replace' })
    expect(replaced).to.deep.equal({ id: first.id, created: false })
    const rows = await harness.db('jobs').where({ key: 'k', state: 'pending' })
    expect(rows).to.have.length(1)
    expect(rows[0].payload).to.deep.equal({ claimId: 'c' })
  })

  it('cancels a pending job, which then never runs; cancelling again says there was nothing', async () => {
    const { id } = await jobs.schedule(harness.db, 'remind', { key: 'to-cancel', runAt: { delayMs: 60_000 }, payload: { claimId: 'x' } })
    expect(await jobs.cancel(harness.db, 'remind', 'to-cancel')).to.equal(true)
    expect(await jobs.cancel(harness.db, 'remind', 'to-cancel')).to.equal(false)
    expect((await harness.job(id)).state).to.equal('cancelled')
  })

  it('cancels a job the runner has already claimed and is holding until its due time', async () => {
    const { id } = await jobs.schedule(harness.db, 'remind', { key: 'claimed', runAt: { delayMs: 400 }, payload: { claimId: 'z' } })
    // the runner claims within its look-ahead (500 ms): the row is locked by a batch waiting for the due time
    await waitFor(
      async () => (await harness.db.raw(`select id from jobs where id = ? for update nowait`, [id]).then(() => false, () => true)),
      { timeoutMs: 2_000, intervalMs: 10, what: 'the runner to hold the job' }
    )
    expect(await jobs.cancel(harness.db, 'remind', 'claimed')).to.equal(true)
    const later = nextEvent<FiredJob>(jobs, 'fired', { timeoutMs: 5_000, filter: (j) => j.key === 'after-cancel' })
    await jobs.schedule(harness.db, 'remind', { key: 'after-cancel', runAt: { delayMs: 600 }, payload: { claimId: 'y' } })
    await later
    expect((await harness.job(id)).state).to.equal('cancelled')
    expect((await harness.effects()).map((e) => e.job_id)).not.to.include(id)
    expect(await harness.db('job_cancels').where({ id }), 'the record of the cancel is gone with the job').to.have.length(0)
  })

  it('exists only if the caller\'s transaction commits', async () => {
    const trx = await harness.db.transaction()
    await jobs.schedule(trx, 'remind', { key: 'rolled-back', payload: { claimId: 'r' } })
    await trx.rollback()
    expect(await harness.db('jobs').where({ key: 'rolled-back' })).to.have.length(0)
  })

  it('refuses a payload that fails the job\'s schema, naming the field', async () => {
    const err = await jobs.schedule(harness.db, 'remind', { payload: { claimId: 7 } as never }).catch((e) => e)
    expect(isJobError(err, 'CONTRACT_VIOLATION'), String(err)).to.equal(true)
    expect(err.message).to.include('/claimId')
    const unknown = await jobs.schedule(harness.db, 'no-such-job', { payload: {} }).catch((e) => e)
    expect(isJobError(unknown, 'UNKNOWN_JOB')).to.equal(true)
  })

  it('retries a failing handler with backoff, then marks it failed; the other jobs of its batch still commit', async () => {
    failFor.add('bad')
    const failures: Array<{ attempt: number; willRetry: boolean }> = []
    const onFailed = (job: { key: string | null; attempt: number; willRetry: boolean }) => {
      if (job.key === 'bad') failures.push({ attempt: job.attempt, willRetry: job.willRetry })
    }
    jobs.on('failed', onFailed)
    const at = { delayMs: 200 }
    const bad = await jobs.schedule(harness.db, 'remind', { key: 'bad', runAt: at, payload: { claimId: 'bad' } })
    const good = await jobs.schedule(harness.db, 'remind', { key: 'good', runAt: at, payload: { claimId: 'good' } })
    await waitFor(async () => (await harness.job(bad.id)).state === 'failed', { timeoutMs: 5_000, what: 'the bad job to be failed' })
    jobs.off('failed', onFailed)
    const row = await harness.job(bad.id)
    expect(row.attempts).to.equal(3)
    expect(row.last_error).to.equal('no reminder for bad')
    expect(failures).to.deep.equal([
      { attempt: 1, willRetry: true },
      { attempt: 2, willRetry: true },
      { attempt: 3, willRetry: false }
    ])
    expect((await harness.job(good.id)).state).to.equal('done')
    const ids = (await harness.effects()).map((e) => e.job_id)
    expect(ids).to.include(good.id)
    expect(ids, 'a failed handler\'s writes are undone').not.to.include(bad.id)
  })

  it('marks a stored job whose payload no longer fits its schema failed, with the reason, without running it', async () => {
    const { id } = await jobs.schedule(harness.db, 'remind', { key: 'stale', runAt: { delayMs: 60_000 }, payload: { claimId: 's' } })
    await harness.db('jobs').where({ id }).update({ payload: JSON.stringify({ claim: 's' }), run_at: harness.db.raw('clock_timestamp()') })
    await jobs.schedule(harness.db, 'remind', { payload: { claimId: 'wake' } }) // wakes the runner
    await waitFor(async () => (await harness.job(id)).state === 'failed', { timeoutMs: 5_000, what: 'the stale job to be failed' })
    const row = await harness.job(id)
    expect(row.attempts).to.equal(1)
    expect(row.last_error).to.match(/payload does not match job "remind"/)
  })

  it('refuses an invalid cron or time zone when the schedule is declared', () => {
    for (const definition of [
      { cron: 'every morning', job: 'remind' },
      { cron: '0 8 * * *', timeZone: 'Mars/Olympus', job: 'remind' },
      { cron: '0 8 * * *', intervalMs: 1_000, job: 'remind' },
      { intervalMs: -5, job: 'remind' }
    ]) {
      let error: unknown
      try {
        jobs.defineSchedule('bad', definition)
      } catch (err) {
        error = err
      }
      expect(isJobError(error, 'INVALID_SCHEDULE'), `${JSON.stringify(definition)}: ${String(error)}`).to.equal(true)
    }
  })
})
