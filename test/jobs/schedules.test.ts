import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import { isJobError, type FiredJob, type Jobs, type ScheduleDefinition } from '../../shared/jobs/index.ts'
import { nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { JobsHarness, recordEffect } from './support.ts'

const HOUR = 3_600_000

describe('recurring schedules (shared/jobs)', function () {
  this.timeout(20_000)
  const ns = uniqueNamespace('schedules')
  const harness = new JobsHarness(ns)
  let running: Jobs[] = []

  /** A Jobs instance with the `digest` job, not started yet (the runner is "down" until start()). */
  const instance = () => {
    const jobs = harness.jobs()
    jobs.define('digest', { payload: Type.Object({ zone: Type.Optional(Type.String()) }), handler: async (job, trx) => recordEffect(trx, job) })
    running.push(jobs)
    return jobs
  }

  /** The runner was down: the schedule's first unfired due time is `agoMs` in the past. */
  const downSince = (name: string, agoMs: number) =>
    harness.db('schedules').where({ name }).update({ next_due_at: harness.db.raw(`clock_timestamp() - ? * interval '1 millisecond'`, [agoMs]) })

  const jobsOf = (schedule: string) => harness.allJobs().where({ schedule_name: schedule }).orderBy('due_at')
  const firesOf = (schedule: string) => harness.db('schedule_fires').where({ schedule }).orderBy('due_at')

  before(async () => {
    await harness.migrate()
  })

  afterEach(async () => {
    for (const jobs of running.splice(0)) await jobs.stop()
    for (const table of ['schedule_fires', 'schedules', 'jobs', 'effects']) await harness.db(table).delete()
  })

  after(async () => {
    await harness.close()
  })

  it('fires a cron schedule in a named zone at each whole second, on time, each due time once across two runners', async () => {
    const a = instance()
    const b = instance()
    a.defineSchedule('tick', { cron: '* * * * * *', timeZone: 'Europe/Berlin', job: 'digest', payload: { zone: 'Europe/Berlin' } })
    b.defineSchedule('tick', { cron: '* * * * * *', timeZone: 'Europe/Berlin', job: 'digest', payload: { zone: 'Europe/Berlin' } })
    const fired: FiredJob[] = []
    for (const jobs of [a, b]) jobs.on('fired', (job) => fired.push(job))
    await a.start()
    await b.start()
    await waitFor(() => fired.length >= 3, { timeoutMs: 8_000, what: 'three fires' })
    await a.stop()
    await b.stop()
    const dues = fired.map((f) => f.dueAt.getTime())
    expect(new Set(dues).size, 'no due time fired twice').to.equal(dues.length)
    for (const due of dues) expect(due % 1_000).to.equal(0)
    for (const job of fired) {
      expect(job.scheduleName).to.equal('tick')
      expect(job.payload).to.deep.equal({ zone: 'Europe/Berlin' })
      expect(job.latenessMs, 'schedule fire to handler start').to.be.lessThan(250)
    }
    const fires = await firesOf('tick')
    expect(fires.length).to.equal((await jobsOf('tick')).length)
  })

  it('fires an interval schedule in phase with its previous due time', async () => {
    const jobs = instance()
    await jobs.start()
    await jobs.upsertSchedule(harness.db, 'every-300', { intervalMs: 300, job: 'digest' })
    await waitFor(async () => (await harness.effects('digest')).length >= 3, { timeoutMs: 5_000, what: 'three fires' })
    const dues = (await jobsOf('every-300')).map((j: { due_at: Date }) => j.due_at.getTime())
    for (let i = 1; i < dues.length; i++) expect(dues[i]! - dues[i - 1]!).to.equal(300)
  })

  describe('catch-up after the runner was down for ~3 hours (hourly schedule)', () => {
    const cases: Array<[ScheduleDefinition['catchUp'], number]> = [
      ['skip', 0],
      ['once', 1],
      [{ allWithinMs: 2.5 * HOUR }, 2]
    ]
    for (const [catchUp, expected] of cases) {
      it(`${JSON.stringify(catchUp)} fires ${expected} of the 3 missed times, and the next one is in the future`, async () => {
        const jobs = instance()
        const name = `hourly-${JSON.stringify(catchUp)}`
        await jobs.upsertSchedule(harness.db, name, { intervalMs: HOUR, job: 'digest', catchUp, overlap: 'allow' })
        await downSince(name, 3 * HOUR - 300_000) // missed: 2h55m, 1h55m and 55m ago
        await jobs.start()
        // the pass moved the schedule on: nothing due before 5 minutes from now
        await waitFor(async () => {
          const row = await harness.db('schedules').where({ name }).first()
          return row.next_due_at.getTime() > Date.now() + 200_000 && row
        }, { timeoutMs: 5_000, what: 'the catch-up pass' })
        await waitFor(async () => (await harness.effects('digest')).length === expected, { timeoutMs: 5_000, what: `${expected} runs` })
        const queued = await jobsOf(name)
        expect(queued).to.have.length(expected)
        for (const job of queued) expect(job.state).to.equal('done')
        const next = (await harness.db('schedules').where({ name }).first()).next_due_at.getTime()
        expect(next - Date.now()).to.be.within(200_000, 310_000)
      })
    }
  })

  describe('overlap while the schedule\'s previous job is unfinished (3 due times after an outage)', () => {
    const cases: Array<[ScheduleDefinition['overlap'], number]> = [
      ['skip', 0],
      ['queue-one', 1],
      ['allow', 3]
    ]
    for (const [overlap, expected] of cases) {
      it(`${overlap} queues ${expected}`, async () => {
        const jobs = instance()
        const name = `overlap-${overlap}`
        await jobs.upsertSchedule(harness.db, name, { intervalMs: HOUR, job: 'digest', overlap, catchUp: { allWithinMs: 3 * HOUR } })
        // the previous fire's job, still pending (its handler is retrying)
        await harness.db('jobs').insert({
          id: '00000000-0000-4000-8000-000000000001',
          name: 'digest',
          payload: '{}',
          run_at: harness.db.raw(`clock_timestamp() + interval '1 hour'`),
          due_at: harness.db.raw('clock_timestamp()'),
          schedule_name: name
        })
        await downSince(name, 3 * HOUR - 300_000)
        await jobs.start()
        await waitFor(async () => (await firesOf(name)).length === 3, { timeoutMs: 5_000, what: 'three fire records' })
        const outcomes = (await firesOf(name)).map((f: { outcome: string }) => f.outcome)
        expect(outcomes.filter((o) => o === 'queued')).to.have.length(expected)
        expect(outcomes.filter((o) => o === 'skipped-overlap')).to.have.length(3 - expected)
        expect(await jobsOf(name)).to.have.length(expected + 1)
      })
    }
  })

  it('does not fire while paused, is next due after now on resume, and runs at once when triggered', async () => {
    const jobs = instance()
    await jobs.upsertSchedule(harness.db, 'paused', { intervalMs: HOUR, job: 'digest' })
    await jobs.pause('paused')
    await downSince('paused', 2 * HOUR)
    await jobs.upsertSchedule(harness.db, 'witness', { intervalMs: HOUR, job: 'digest' })
    await downSince('witness', 1_000)
    await jobs.start()
    // the witness firing proves a pass ran while the other was paused
    await waitFor(async () => (await jobsOf('witness')).length === 1, { timeoutMs: 5_000, what: 'the witness to fire' })
    expect(await jobsOf('paused')).to.have.length(0)
    await jobs.upsertSchedule(harness.db, 'paused', { intervalMs: HOUR, job: 'digest', payload: { zone: 'changed' } })
    expect((await harness.db('schedules').where({ name: 'paused' }).first()).paused, 'an upsert keeps the pause').to.equal(true)

    await jobs.resume('paused')
    const row = await harness.db('schedules').where({ name: 'paused' }).first()
    expect(row.paused).to.equal(false)
    expect(row.next_due_at.getTime()).to.be.greaterThan(Date.now())

    const fired = nextEvent<FiredJob>(jobs, 'fired', { timeoutMs: 5_000, filter: (j) => j.scheduleName === 'paused' })
    const id = await jobs.trigger('paused')
    expect((await fired).id).to.equal(id)
    expect((await fired).payload).to.deep.equal({ zone: 'changed' })
  })

  it('names an unknown schedule in pause, resume and trigger', async () => {
    const jobs = instance()
    for (const call of [() => jobs.pause('nope'), () => jobs.resume('nope'), () => jobs.trigger('nope')]) {
      const err = await call().catch((e) => e)
      expect(isJobError(err, 'UNKNOWN_SCHEDULE'), String(err)).to.equal(true)
      expect(err.message).to.include('"nope"')
    }
  })
})
