import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import { join } from 'node:path'
import { Supervised } from '../../chaos/supervisor.ts'
import { PgCluster } from '../../shared/testing/pg-cluster.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { JobsHarness } from './support.ts'

const JOBS = 1_000
const fixture = join(import.meta.dirname, 'fixtures', 'runner-process.ts')

describe('delayed jobs across three runner processes, one SIGKILLed and PostgreSQL restarted', function () {
  this.timeout(120_000)
  const ns = uniqueNamespace('jobs-once')
  const cluster = new PgCluster()
  let harness: JobsHarness
  const runners: Supervised[] = []

  before(async () => {
    await cluster.init()
    await cluster.start()
    await cluster.createDatabase('bazaar')
    harness = new JobsHarness(ns, 'jobs', cluster.url('bazaar'))
    await harness.migrate()
    await harness.db.raw('create table runs (job_id uuid not null, pid integer not null, at timestamptz not null default clock_timestamp())')
    for (let i = 0; i < 3; i++) {
      runners.push(new Supervised({
        name: `runner-${i}`,
        args: ['--import', 'tsx', fixture],
        env: { ...process.env, DATABASE_URL: cluster.url('bazaar'), JOBS_SCHEMA: harness.schema, NODE_ENV: 'test' },
        logDir: join(cluster.dataDir, 'logs')
      }))
    }
  })

  after(async () => {
    for (const runner of runners) {
      await runner.kill('SIGKILL')
      runner.close()
    }
    await harness?.close().catch(() => {})
    await cluster.remove()
  })

  const done = async () => Number((await harness.db('jobs_done').count({ n: '*' }))[0]!.n)

  it('fires each of 1,000 jobs exactly once, none lost', async () => {
    // scheduled through the API (what a service does), due over the next ~9 s
    const jobs = harness.jobs()
    jobs.define('tick', { payload: Type.Object({ n: Type.Integer() }), handler: async () => {} })
    await harness.db.transaction(async (trx) => {
      for (let n = 0; n < JOBS; n++) await jobs.schedule(trx, 'tick', { payload: { n }, runAt: { delayMs: 1_500 + n * 8 } })
    })
    for (const runner of runners) await runner.start()

    await waitFor(async () => (await done()) >= JOBS * 0.3, { timeoutMs: 30_000, intervalMs: 20, what: '30% of the jobs done' })
    await runners[0]!.kill('SIGKILL') // mid-batch, most likely: its transaction rolls back, the others take its rows

    await waitFor(async () => (await done()) >= JOBS * 0.6, { timeoutMs: 30_000, intervalMs: 20, what: '60% of the jobs done' })
    await harness.db.destroy().catch(() => {})
    await cluster.restart('immediate') // every connection of every runner is cut; crash recovery
    harness = new JobsHarness(ns, 'jobs', cluster.url('bazaar'))
    await runners[0]!.start()

    await waitFor(async () => (await done()) === JOBS, { timeoutMs: 60_000, intervalMs: 100, what: 'every job done' })
    const { rows } = await harness.db.raw<{ rows: Array<{ runs: number; jobs: number; doubled: number }> }>(
      `select count(*)::int as runs, count(distinct job_id)::int as jobs,
         (select count(*)::int from (select job_id from runs group by job_id having count(*) > 1) d) as doubled from runs`
    )
    expect(rows[0]).to.deep.equal({ runs: JOBS, jobs: JOBS, doubled: 0 })
    // every job is done, so none is left in `jobs` (a done job moves to jobs_done)
    const pending = await harness.db('jobs').count({ n: '*' })
    expect(Number(pending[0]!.n)).to.equal(0)
    const pids = await harness.db('runs').distinct('pid')
    expect(pids.length, 'the work was shared by the instances').to.be.at.least(3)
  })
})
