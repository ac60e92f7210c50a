import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { runCli, runJson, type CliResult } from '../cli/cli.ts'
import { JobsHarness } from './support.ts'

function expectOneLineFailure(result: CliResult, code: number, text: string): void {
  expect(result.code, result.stderr).to.equal(code)
  const lines = result.stderr.trim().split('\n')
  expect(lines, result.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^bazaar: /)
  expect(lines[0]).to.contain(text)
}

describe('bazaar jobs and bazaar schedules', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('jobs cli')
  const cli = { namespace: ns }
  // a real service name: the CLI looks at the namespace's services by default
  const harness = new JobsHarness(ns, 'orders')
  const jobs = harness.jobs()
  let failing = true

  before(async () => {
    await harness.migrate()
    jobs.define('escalate', { payload: Type.Object({ claimId: Type.String() }), handler: async () => {} })
    jobs.define('flaky', {
      payload: Type.Object({}),
      retry: { delaysMs: [] },
      handler: async () => {
        if (failing) throw new Error('smtp said no')
      }
    })
    jobs.defineSchedule('nightly', { cron: '0 3 * * *', timeZone: 'Europe/Berlin', job: 'escalate', payload: { claimId: 'cron' } })
    await jobs.start()
  })

  after(async () => {
    await harness.close()
  })

  it('lists pending jobs (table and JSON), shows one, and cancels it so it never runs', async () => {
    const { id } = await jobs.schedule(harness.db, 'escalate', { key: 'claim-1', runAt: { delayMs: 3_600_000 }, payload: { claimId: 'claim-1' } })
    // Each command is a process of its own (as an operator runs it): the ones that only read go side by side.
    const [listed, human, shown] = await Promise.all([
      runJson<{ jobs: Array<{ id: string; service: string; state: string }> }>(['jobs', 'list', '--state', 'pending'], cli),
      runCli(['schedules', 'list'], cli),
      runJson<{ id: string; payload: unknown; key: string }>(['jobs', 'show', id], cli)
    ])
    expect(listed.jobs.map((j) => [j.id, j.service, j.state])).to.deep.include([id, 'orders', 'pending'])
    expect(human.stdout).to.contain('nightly')
    expect(shown).to.include({ id, key: 'claim-1' })
    expect(shown.payload).to.deep.equal({ claimId: 'claim-1' })

    const cancelled = await runJson(['jobs', 'cancel', id], cli)
    expect(cancelled).to.deep.equal({ service: 'orders', id, cancelled: true })
    expect((await harness.job(id)).state).to.equal('cancelled')
    expectOneLineFailure(await runCli(['jobs', 'cancel', id], cli), 1, 'is cancelled: only a pending job can be cancelled')
  })

  it('shows a failed job with its error, and run-now gives it another attempt', async () => {
    const { id } = await jobs.schedule(harness.db, 'flaky', { payload: {} })
    await waitFor(async () => (await harness.job(id)).state === 'failed', { timeoutMs: 5_000, what: 'the job to fail' })
    // a job no runner here handles (its service is down, say): due, and for longer than status calls late
    const stuck = randomUUID()
    const aMinuteAgo = harness.db.raw(`clock_timestamp() - interval '1 minute'`)
    await harness.db('jobs').insert({ id: stuck, name: 'nobody-runs-this', payload: '{}', run_at: aMinuteAgo, due_at: aMinuteAgo })
    const [failed, status] = await Promise.all([
      runJson<{ jobs: Array<{ id: string; lastError: string }> }>(['jobs', 'list', '--state', 'failed'], cli),
      runJson<{ jobs: Array<{ service: string; failed: number; due: number; late: number }> }>(['status'], cli)
    ])
    expect(failed.jobs.find((j) => j.id === id)?.lastError).to.equal('smtp said no')
    expect(status.jobs.find((j) => j.service === 'orders')).to.include({ failed: 1, due: 1, late: 1 })
    await harness.db('jobs').where({ id: stuck }).delete()

    failing = false
    const again = await runJson(['jobs', 'run-now', id], cli)
    expect(again).to.deep.equal({ service: 'orders', id, was: 'failed', state: 'pending' })
    await waitFor(async () => (await harness.job(id)).state === 'done', { timeoutMs: 5_000, what: 'the retried job to run' })
    expectOneLineFailure(await runCli(['jobs', 'run-now', id], cli), 1, 'is done: only a pending or failed job can be run again')
    // done: moved to its record (jobs_done), which list, show and cancel read
    const [done, shown] = await Promise.all([
      runJson<{ jobs: Array<{ id: string; state: string; attempts: number }> }>(['jobs', 'list', '--state', 'done'], cli),
      runJson<{ state: string; attempts: number; lastError: string | null; finishedAt: string }>(['jobs', 'show', id], cli)
    ])
    expect(done.jobs.find((j) => j.id === id)).to.include({ state: 'done', attempts: 2 })
    expect(shown).to.include({ state: 'done', attempts: 2, lastError: null })
    expect(Date.parse(shown.finishedAt)).to.be.greaterThan(0)
    expectOneLineFailure(await runCli(['jobs', 'cancel', id], cli), 1, 'is done: only a pending job can be cancelled')
  })

  it('lists schedules, pauses and resumes one, and triggers it', async () => {
    const listed = await runJson<{ schedules: Array<{ name: string; cadence: string; paused: boolean; nextDueAt: string }> }>(['schedules', 'list'], cli)
    expect(listed.schedules).to.have.length(1)
    expect(listed.schedules[0]).to.include({ name: 'nightly', cadence: '0 3 * * * (Europe/Berlin)', paused: false })

    expect(await runJson(['schedules', 'pause', 'nightly'], cli)).to.include({ name: 'nightly', paused: true })
    expect((await harness.db('schedules').where({ name: 'nightly' }).first()).paused).to.equal(true)
    const resumed = await runJson<{ paused: boolean; nextDueAt: string }>(['schedules', 'resume', 'nightly'], cli)
    expect(resumed.paused).to.equal(false)
    expect(Date.parse(resumed.nextDueAt)).to.be.greaterThan(Date.now())

    const { jobId } = await runJson<{ jobId: string }>(['schedules', 'trigger', 'nightly'], cli)
    await waitFor(async () => (await harness.job(jobId))?.state === 'done', { timeoutMs: 5_000, what: 'the triggered job to run' })
    expect((await harness.job(jobId)) as unknown).to.include({ schedule_name: 'nightly' })
  })

  it('names an unknown job or schedule in one line with a non-zero exit, and has --help', async () => {
    const failures: Array<[string[], number, string]> = [
      [['jobs', 'show', '00000000-0000-4000-8000-000000000000'], 1, `no job 00000000-0000-4000-8000-000000000000 in namespace ${ns}`],
      [['jobs', 'run-now', 'not-a-uuid'], 1, 'no job not-a-uuid'],
      [['schedules', 'pause', 'nope'], 1, 'no schedule "nope"'],
      [['jobs', 'list', '--state', 'sleeping'], 2, '--state must be one of']
    ]
    const helps = [['jobs', 'list'], ['schedules', 'trigger']]
    const [failed, helped] = await Promise.all([
      Promise.all(failures.map(([args]) => runCli(args, cli))),
      Promise.all(helps.map((args) => runCli([...args, '--help'], cli)))
    ])
    failures.forEach(([, code, text], i) => expectOneLineFailure(failed[i]!, code, text))
    helps.forEach((args, i) => {
      expect(helped[i]!.code, args.join(' ')).to.equal(0)
      expect(helped[i]!.stdout).to.match(/^Usage: bazaar/)
    })
  })
})
