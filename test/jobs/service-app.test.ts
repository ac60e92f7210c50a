import { expect } from 'chai'
import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { HookContext, ServiceApp } from '../../shared/feathers/declarations.ts'
import { transactional } from '../../shared/feathers/transaction.ts'
import type { FiredJob } from '../../shared/jobs/index.ts'
import { defineResource, serviceOptions } from '../../shared/manifest/resource.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { nextEvent, testEnv, uniqueNamespace, type RunningApp } from '../../shared/testing/index.ts'

interface ReminderData { claimId: unknown; delayMs: number; key: string }

/** A resource that schedules a job in its request's transaction, as a service's hook does. */
class Reminders {
  async create(data: ReminderData) {
    return { ...data }
  }
}

function remindersApp(ns: string): ServiceApp {
  const app = createServiceApp({
    service: 'reminders',
    env: testEnv(ns),
    migrations: [{ name: '001_reminded', up: (db) => db.schema.createTable('reminded', (t) => t.string('claim_id').primary()) }]
  })
  app.get('jobs').define('remind', {
    payload: Type.Object({ claimId: Type.String() }, { additionalProperties: false }),
    handler: async (job, trx) => {
      await trx('reminded').insert({ claim_id: job.payload.claimId })
    }
  })
  const manifest = defineResource({ path: 'reminders', methods: ['create'], access: { create: { who: 'anyone', open: true } }, emits: {} })
  app.use('reminders', new Reminders() as never, serviceOptions(manifest))
  app.service('reminders').hooks({
    around: { create: [transactional()] },
    after: {
      create: [
        async (context: HookContext) => {
          const { claimId, delayMs, key } = context.data as ReminderData
          const trx = context.params.transaction!.trx as Knex.Transaction
          await context.app.get('jobs').schedule(trx, 'remind', { key, runAt: { delayMs }, payload: { claimId } as { claimId: string } })
        }
      ]
    }
  })
  return app
}

describe('jobs in a service app (createServiceApp)', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('jobs-app')
  const apps = new TestApps(ns)
  let running: RunningApp

  before(async () => {
    running = await apps.start(remindersApp(ns))
  })

  after(async () => {
    await apps.close()
  })

  const post = (body: unknown) =>
    fetch(`${running.url}/reminders`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })

  it('runs a job a request scheduled in its transaction, after the delay', async () => {
    const fired = nextEvent<FiredJob>(running.app.get('jobs'), 'fired', { timeoutMs: 10_000 })
    const response = await post({ claimId: 'claim-7', delayMs: 200, key: 'claim-7' })
    expect(response.status).to.equal(201)
    const job = await fired
    expect(job.payload).to.deep.equal({ claimId: 'claim-7' })
    expect(await running.app.get('db')('reminded').where({ claim_id: 'claim-7' })).to.have.length(1)
  })

  it('answers 409 for a key already pending and 400 naming the field for a payload that fails the job\'s schema', async () => {
    expect((await post({ claimId: 'claim-8', delayMs: 60_000, key: 'claim-8' })).status).to.equal(201)
    const duplicate = await post({ claimId: 'claim-8', delayMs: 60_000, key: 'claim-8' })
    expect(duplicate.status).to.equal(409)
    expect((await duplicate.json()).message).to.contain('key "claim-8" already exists')
    const bad = await post({ claimId: 42, delayMs: 0, key: 'claim-9' })
    expect(bad.status).to.equal(400)
    expect((await bad.json()).message).to.contain('/claimId')
    // the refused request's transaction rolled back: no job for it
    expect(await running.app.get('db')('jobs').where({ key: 'claim-9' })).to.have.length(0)
  })
})
