import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import type { GetMessage } from 'amqplib'
import { Headers } from '../../shared/bus/headers.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { names } from '../../shared/bus/names.ts'
import { writeOutbox } from '../../shared/bus/outbox.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { HookContext, ServiceApp } from '../../shared/feathers/declarations.ts'
import { emit, transactional } from '../../shared/feathers/transaction.ts'
import { defineResource, serviceOptions } from '../../shared/manifest/resource.ts'
import { startApp, testEnv, uniqueNamespace, type RunningApp } from '../../shared/testing/index.ts'
import { cleanUp, RawBroker } from '../bus/support.ts'

interface Signup { id: string; email: string; name: string }

/** A tiny resource: a signup is a row, and `user.registered` is emitted in its transaction. */
class SignupService {
  async create(data: { email: string; name: string }, params: { transaction?: { trx: import('knex').Knex.Transaction } }): Promise<Signup> {
    const signup = { id: randomUUID(), email: data.email, name: data.name }
    await params.transaction!.trx.table('signups').insert(signup)
    return signup
  }
}

function accountsApp(ns: string): ServiceApp {
  const app = createServiceApp({
    service: 'accounts',
    env: testEnv(ns),
    migrations: [{
      name: '001_signups',
      up: (db) => db.schema.createTable('signups', (t) => {
        t.uuid('id').primary()
        t.string('email').notNullable()
        t.string('name').notNullable()
      })
    }]
  })
  const signupManifest = defineResource({ path: 'signups', methods: ['create'], access: { create: { who: 'anyone', open: true } }, emits: { create: [USER_REGISTERED] } })
  app.use('signups', new SignupService() as never, serviceOptions(signupManifest))
  app.service('signups').hooks({
    around: { create: [transactional()] },
    after: {
      create: [async (context: HookContext) => {
        const { id, email, name } = context.result as Signup
        await emit(context, USER_REGISTERED, { userId: id, email, name, role: 'buyer', registeredAt: new Date().toISOString() })
      }]
    }
  })
  return app
}

/** A second service that derives `user.updated` from every `user.registered`, as consumers do: through its outbox. */
function profilesApp(ns: string): ServiceApp {
  const app = createServiceApp({ service: 'profiles', env: testEnv(ns), migrations: [] })
  const db = app.get('db')
  const schema = app.get('schema')
  app.get('bus').consumer({
    service: 'profiles', purpose: 'user-events', bindings: [USER_REGISTERED],
    handlers: {
      [USER_REGISTERED]: idempotent({ db, schema, consumer: 'user-events' }, async ({ payload }, trx) => {
        const { userId, email, name, role } = payload
        await writeOutbox(trx, { namespace: ns, appId: 'profiles', schema }, USER_UPDATED, {
          userId, email, name, role, changes: ['profile'], updatedAt: new Date().toISOString()
        })
      })
    }
  })
  return app
}

describe('a service built with createServiceApp', () => {
  const ns = uniqueNamespace('service_app')
  let accounts: RunningApp
  let profiles: RunningApp
  let raw: RawBroker
  let tap: string

  before(async () => {
    raw = await RawBroker.open()
    accounts = await startApp(accountsApp(ns))
    profiles = await startApp(profilesApp(ns))
    tap = (await raw.channel.assertQueue('', { exclusive: true })).queue
    await raw.channel.bindQueue(tap, names.eventsExchange(ns), 'user.#')
  })

  after(() => cleanUp(ns, profiles, accounts, raw))

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${accounts.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })

  it("carries the HTTP request's X-Request-Id into its event and into the event a consumer derives from it", async () => {
    const response = await post('/signups', JSON.stringify({ email: 'ada@example.com', name: 'Ada' }), { 'x-request-id': 'req-signup-1' })
    expect(response.status).to.equal(201)
    expect(response.headers.get('x-request-id')).to.equal('req-signup-1')
    const signup = (await response.json()) as Signup

    const messages = await raw.takeExactly(tap, 2, 15_000)
    const byType = (type: string) => messages.find((m) => m.properties.type === type) as GetMessage
    const registered = byType(USER_REGISTERED)
    const derived = byType(USER_UPDATED)
    expect(JSON.parse(registered.content.toString()).userId).to.equal(signup.id)
    expect(registered.properties.appId).to.equal('accounts')
    expect(registered.properties.headers).to.include({ [Headers.requestId]: 'req-signup-1', [Headers.namespace]: ns })

    expect(derived.properties.appId).to.equal('profiles')
    expect(derived.properties.headers).to.include({
      [Headers.requestId]: 'req-signup-1',
      [Headers.causationId]: registered.properties.messageId,
      [Headers.correlationId]: registered.properties.headers![Headers.correlationId]
    })
  })

  it('answers /health with 200 when ready', async () => {
    const response = await fetch(`${accounts.url}/health`)
    expect(response.status).to.equal(200)
    expect(await response.json()).to.include({ status: 'ok', broker: 'up', database: 'up' })
  })

  it('answers a malformed JSON body with 400, not 500, and publishes nothing', async () => {
    const response = await post('/signups', '{"email": "ada@example.com", ')
    expect(response.status).to.equal(400)
    expect(await response.json()).to.include({ name: 'BadRequest', code: 400 })
    expect(await raw.drain(tap)).to.have.length(0)
  })
})
