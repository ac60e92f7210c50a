import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import type { Channel } from 'amqplib'
import { chromium, type Browser } from 'playwright-core'
import { Bus } from '../../../shared/bus/bus.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { names } from '../../../shared/bus/names.ts'
import { busMigrations } from '../../../shared/bus/outbox-table.ts'
import { USER_REGISTERED } from '../../../shared/contracts/user.ts'
import { createKnex, schemaName, type Knex } from '../../../shared/db/database.ts'
import { migrate } from '../../../shared/db/migrations.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'
import { call } from './support.ts'

describe('gateway: the operations console at /ops, in a real browser', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('gateway-ops')
  const env = testEnv(ns)
  const schema = schemaName(ns, 'opstest')
  const queue = names.queue(ns, 'opstest', 'user-events')
  const dlq = names.deadLetterQueue(queue)
  const admin = identity('admin')
  let running: RunningApp
  let db: Knex
  let bus: Bus
  let probe: Channel
  let browser: Browser
  /** the "bug" in the test's consumer: while on, every message fails (and ends in the dead-letter queue) */
  let bug = true

  before(async () => {
    db = createKnex(env.databaseUrl, schema)
    await migrate(db, schema, [
      ...busMigrations,
      {
        name: '001_effects',
        async up(knex) {
          await knex.schema.createTable('effects', (t) => {
            t.increments('id')
            t.string('message_id').notNullable() // deliberately not unique: a double effect must be visible
          })
        }
      }
    ])
    const effect = idempotent({ db, schema, consumer: 'user-events' }, async (message: Envelope, trx) => {
      await trx.withSchema(schema).table('effects').insert({ message_id: message.id })
    })
    bus = new Bus({ url: env.amqpUrl, namespace: ns, service: 'opstest' })
    await bus.start()
    bus.consumer({
      service: 'opstest',
      purpose: 'user-events',
      bindings: ['user.#'],
      retry: { kind: 'delayed', delaysMs: [50] },
      handlers: {
        [USER_REGISTERED]: async (message: Envelope) => {
          if (bug) throw new Error(`bug in the ${message.routingKey} handler`)
          await effect(message)
        }
      }
    })
    await bus.startConsumers()
    probe = await (await bus.connection.channelModel()).createChannel()
    running = await startApp(createApp(env, { ...process.env, OPS_REFRESH_MS: '250' }))
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
  })

  after(async () => {
    await browser?.close()
    await running?.stop()
    await probe?.close().catch(() => {})
    await bus?.stop()
    await db?.destroy()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  const depth = async (name: string) => (await probe.checkQueue(name)).messageCount

  async function deadLetter(): Promise<string> {
    const id = randomUUID()
    const before = await depth(dlq)
    await bus.publisher.publish(
      USER_REGISTERED,
      { userId: randomUUID(), email: `${id.slice(0, 8)}@example.com`, name: 'Ada', role: 'buyer', registeredAt: new Date().toISOString() },
      { messageId: id }
    )
    await waitFor(async () => (await depth(dlq)) === before + 1, { timeoutMs: 10_000, what: `the message in ${dlq}` })
    return id
  }

  const effects = async (id: string) => Number((await db.withSchema(schema).table('effects').where({ message_id: id }).count({ n: '*' }))[0]!.n)

  it('answers 401 without a token and 403 to a non-admin, on every route and the stream; bad input is a 400', async () => {
    for (const [method, path] of [['GET', '/ops/api/state'], ['GET', `/ops/api/dead-letters?queue=${dlq}`], ['POST', '/ops/api/replay'], ['POST', '/ops/api/purge']]) {
      expect((await call(running.url, method!, path!)).status, `${method} ${path} without a token`).to.equal(401)
      expect((await call(running.url, method!, path!, 'not-a-token')).status, `${method} ${path} with a bad token`).to.equal(401)
      for (const role of ['buyer', 'seller'] as const) {
        expect((await call(running.url, method!, path!, identity(role).token, method === 'POST' ? { queue: dlq, all: true } : undefined)).status, `${method} ${path} as ${role}`).to.equal(403)
      }
    }
    expect((await fetch(`${running.url}/ops/api/stream`)).status).to.equal(401)
    expect((await fetch(`${running.url}/ops/api/stream?token=${identity('seller').token}`)).status).to.equal(403)

    const none = await call(running.url, 'POST', '/ops/api/replay', admin.token, { queue: dlq })
    expect(none.status).to.equal(400)
    expect(none.body.message).to.contain('choose the messages to replay')
    expect((await call(running.url, 'POST', '/ops/api/replay', admin.token, { queue: 42, all: true })).status).to.equal(400)
    expect((await call(running.url, 'GET', '/ops/api/dead-letters?queue=nope', admin.token)).status).to.equal(404)
    expect((await call(running.url, 'POST', '/ops/api/purge', admin.token, { queue: dlq, confirm: 'something else' })).status).to.equal(400)
  })

  it('shows a dead letter made in the test; a replay clicked in the page empties the queue and the effect happens once', async () => {
    const id = await deadLetter()
    bug = false // the fix is out
    const page = await browser.newPage()
    try {
      await page.goto(`${running.url}/ops`)
      await page.fill('#token', admin.token)
      await page.click('#login button[type=submit]')
      await page.locator('#status.live').waitFor({ timeout: 5_000 })
      const row = page.locator(`#dlqs tr[data-dlq="${dlq}"]`)
      expect(await row.locator('td').nth(1).textContent()).to.equal('1')
      await row.getByRole('button').click()

      const letter = page.locator(`#letters tr[data-message-id="${id}"]`)
      await letter.waitFor({ timeout: 5_000 })
      const shown = (await letter.textContent())!
      expect(shown).to.contain('bug in the user.registered handler')
      expect(shown).to.contain(USER_REGISTERED)
      expect(shown).to.contain('"name":"Ada"') // the payload, as text
      expect(await letter.locator('td').nth(5).textContent(), 'attempts').to.equal('2')

      await letter.getByRole('checkbox').check()
      await page.click('#replay-selected')
      await page.locator('#result', { hasText: 'Replayed 1 of 1' }).waitFor({ timeout: 5_000 })
      expect(await depth(dlq), 'the dead-letter queue after the replay').to.equal(0)
      // the live update reaches the page on its own
      await page.locator(`#dlqs tr[data-dlq="${dlq}"] td:nth-child(2)`, { hasText: /^0$/ }).waitFor({ timeout: 5_000 })

      await waitFor(async () => (await effects(id)) > 0, { timeoutMs: 5_000, what: 'the replayed message handled' })
      await waitFor(async () => {
        const q = await probe.checkQueue(queue)
        return q.messageCount === 0 && (await depth(dlq)) === 0
      }, { what: 'the work queue drained' })
      expect(await effects(id), 'effects of the replayed message').to.equal(1)
    } finally {
      await page.close()
    }
  })

  it('purges only once the queue name is typed to confirm', async () => {
    bug = true
    await deadLetter()
    const page = await browser.newPage()
    try {
      await page.goto(`${running.url}/ops`)
      await page.fill('#token', admin.token)
      await page.click('#login button[type=submit]')
      await page.locator(`#dlqs tr[data-dlq="${dlq}"]`).getByRole('button').click()
      await page.locator('#letters tr[data-message-id]').first().waitFor({ timeout: 5_000 })

      page.once('dialog', (dialog) => void dialog.accept('not the name'))
      await page.click('#purge')
      await page.locator('#result', { hasText: 'Purge cancelled' }).waitFor({ timeout: 5_000 })
      expect(await depth(dlq)).to.equal(1)

      page.once('dialog', (dialog) => void dialog.accept(dlq.slice(ns.length + 1)))
      await page.click('#purge')
      await page.locator('#result', { hasText: 'Purged 1 message(s)' }).waitFor({ timeout: 5_000 })
      expect(await depth(dlq)).to.equal(0)
    } finally {
      await page.close()
      bug = false
    }
  })
})
