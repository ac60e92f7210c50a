import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Channel } from 'amqplib'
import { Bus } from '../../shared/bus/bus.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { names } from '../../shared/bus/names.ts'
import { busMigrations } from '../../shared/bus/outbox-table.ts'
import { PRODUCT_CREATED } from '../../shared/contracts/product.ts'
import { USER_REGISTERED, USER_UPDATED } from '../../shared/contracts/user.ts'
import { createKnex, schemaName, type Knex } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { Management, dropNamespaceSchemas, testEnv, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { fixtureDeclarations, runCli, runJson, startCli } from './cli.ts'
import { orderedDeclaration, userEventsDeclaration } from './fixtures/topology.ts'

const ns = uniqueNamespace('cli dlq')
const env = testEnv(ns)
const schema = schemaName(ns, 'clitest')
const queue = names.queue(ns, 'clitest', 'user-events')
const dlq = names.deadLetterQueue(queue)
const orderedDlq = names.deadLetterQueue(names.queue(ns, 'clitest', 'ordered'))
const cli = { namespace: ns }

describe('bazaar dlq: operators put failed messages back once the fix is out', function () {
  this.timeout(60_000)
  let db: Knex
  let bus: Bus
  let ordered: Consumer
  let probe: Channel
  /** the "bug" in the subscriber: while on, every message fails */
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
            t.string('routing_key').notNullable()
            t.integer('replays').notNullable()
          })
        }
      }
    ])
    const effect = idempotent({ db, schema, consumer: 'user-events' }, async (message: Envelope, trx) => {
      await trx.withSchema(schema).table('effects').insert({
        message_id: message.id,
        routing_key: message.routingKey,
        replays: Number(message.headers['x-bazaar-replays'] ?? 0)
      })
    })
    const handle = async (message: Envelope) => {
      if (bug) throw new Error(`bug in the ${message.routingKey} handler`)
      await effect(message)
    }
    bus = new Bus({ url: env.amqpUrl, namespace: ns, service: 'clitest' })
    await bus.start()
    bus.consumer({ ...userEventsDeclaration, handlers: { [USER_REGISTERED]: handle, [USER_UPDATED]: handle } })
    ordered = bus.consumer({
      ...orderedDeclaration,
      handlers: {
        [PRODUCT_CREATED]: async () => {
          throw new Error('the ordered consumer cannot get past this message')
        }
      }
    })
    await bus.startConsumers()
    probe = await (await bus.connection.channelModel()).createChannel()
    probe.on('error', () => {})
  })

  afterEach(async () => {
    bug = true
    await probe.purgeQueue(dlq)
    await probe.purgeQueue(orderedDlq)
  })

  after(async () => {
    await probe?.close().catch(() => {})
    await bus?.stop()
    await db?.destroy()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  const depth = async (name = dlq) => (await probe.checkQueue(name)).messageCount

  async function publishFailing(keys: Array<typeof USER_REGISTERED | typeof USER_UPDATED>): Promise<string[]> {
    const ids: string[] = []
    const before = await depth()
    for (const key of keys) {
      const id = randomUUID()
      ids.push(id)
      const user = { userId: randomUUID(), email: `${id.slice(0, 8)}@example.com`, name: 'Ada', role: 'buyer' as const }
      if (key === USER_REGISTERED) await bus.publisher.publish(key, { ...user, registeredAt: new Date().toISOString() }, { messageId: id })
      else await bus.publisher.publish(key, { ...user, changes: ['name'], updatedAt: new Date().toISOString() }, { messageId: id })
    }
    await waitFor(async () => (await depth()) === before + keys.length, { timeoutMs: 15_000, what: `${keys.length} messages in ${dlq}` })
    return ids
  }

  async function effectCounts(ids: string[]): Promise<Map<string, number>> {
    const rows = await db.withSchema(schema).table('effects').whereIn('message_id', ids).select('message_id').count({ n: '*' }).groupBy('message_id')
    return new Map(rows.map((r) => [String(r.message_id), Number(r.n)]))
  }

  async function waitProcessedOnce(ids: string[]): Promise<void> {
    const counts = await waitFor(async () => {
      const c = await effectCounts(ids)
      return c.size === ids.length ? c : undefined
    }, { timeoutMs: 15_000, what: `${ids.length} messages processed` })
    for (const id of ids) expect(counts.get(id), `effects of ${id}`).to.equal(1)
  }

  const shownIds = async () => (await runJson<Array<{ id: string }>>(['dlq', 'show', dlq, '--limit', '1000'], cli)).map((l) => l.id)

  it('replays every failed message once the bug is fixed: each processed exactly once, the dead-letter queue left empty', async () => {
    const ids = await publishFailing([USER_REGISTERED, USER_REGISTERED, USER_UPDATED, USER_REGISTERED, USER_UPDATED])

    const letters = await runJson<any[]>(['dlq', 'show', 'clitest.user-events'], cli)
    expect(letters.map((l) => l.id)).to.have.members(ids)
    for (const letter of letters) {
      expect(letter.originalQueue).to.equal(queue)
      expect(letter.error).to.match(/^bug in the user\.(registered|updated) handler$/)
      expect(letter.attempts).to.equal(2)
      expect(letter.routingKey).to.be.oneOf([USER_REGISTERED, USER_UPDATED])
      expect(letter.firstFailureAt).to.be.a('string')
      expect(letter.lastFailureAt).to.be.a('string')
      expect(letter.payloadPreview).to.contain('userId')
    }
    expect(await depth(), 'show removes nothing').to.equal(5)

    const listed = await runJson<any[]>(['--declarations', fixtureDeclarations, 'dlq', 'list'], cli)
    const entry = listed.find((d) => d.dlq === dlq)
    expect(entry).to.include({ depth: 5, exists: true, service: 'clitest' })
    expect(entry.oldestFailureAt).to.be.a('string')

    const status = await runJson<any>(['--declarations', fixtureDeclarations, 'status'], cli)
    const row = status.queues.find((q: any) => q.queue === queue)
    expect(row).to.include({ deadLetters: 5, consumers: 1, declared: true, exists: true })
    expect(row.oldestDeadLetterAt).to.be.a('string')
    expect(status.outbox.map((o: any) => o.service)).to.include('orders')

    bug = false
    const summary = await runJson<any>(['dlq', 'replay', queue, '--all'], cli)
    expect(summary).to.include({ total: 5, matched: 5, replayed: 5, left: 0, failed: 0, dryRun: false })
    await waitProcessedOnce(ids)
    expect(await depth()).to.equal(0)
    const replays = await db.withSchema(schema).table('effects').whereIn('message_id', ids).pluck('replays')
    expect(replays).to.deep.equal([1, 1, 1, 1, 1])
  })

  it('replays only the chosen messages (by id, routing key or error), keeps the rest in order, and --dry-run moves nothing', async () => {
    const ids = await publishFailing([USER_REGISTERED, USER_UPDATED, USER_REGISTERED, USER_UPDATED, USER_REGISTERED, USER_UPDATED])
    const order = await shownIds()
    expect(order).to.have.members(ids)
    bug = false

    const dry = await runJson<any>(['dlq', 'replay', dlq, '--all', '--dry-run'], cli)
    expect(dry).to.include({ matched: 6, replayed: 0, dryRun: true })
    expect(dry.wouldReplay.map((m: any) => m.id)).to.deep.equal(order)
    expect(await shownIds(), 'a dry run leaves the queue as it was').to.deep.equal(order)

    const chosen = [order[1]!, order[4]!]
    const byId = await runJson<any>(['dlq', 'replay', dlq, '--id', ...chosen], cli)
    expect(byId).to.include({ matched: 2, replayed: 2, left: 4, failed: 0 })
    await waitProcessedOnce(chosen)
    const afterId = order.filter((id) => !chosen.includes(id))
    expect(await shownIds(), 'the others stay, in their order').to.deep.equal(afterId)
    expect((await effectCounts(afterId)).size, 'the others were not processed').to.equal(0)

    const updated = (await runJson<any[]>(['dlq', 'show', dlq, '--routing-key', USER_UPDATED], cli)).map((l) => l.id)
    const byKey = await runJson<any>(['dlq', 'replay', dlq, '--routing-key', 'user.updated'], cli)
    expect(byKey.replayed).to.equal(updated.length)
    await waitProcessedOnce(updated)
    const afterKey = afterId.filter((id) => !updated.includes(id))
    expect(await shownIds()).to.deep.equal(afterKey)

    const none = await runJson<any>(['dlq', 'replay', dlq, '--error', 'no such error'], cli)
    expect(none).to.include({ matched: 0, replayed: 0, left: afterKey.length })
    const byError = await runJson<any>(['dlq', 'replay', dlq, '--error', 'USER.REGISTERED handler'], cli)
    expect(byError.replayed).to.equal(afterKey.length)
    await waitProcessedOnce(ids)
    expect(await depth()).to.equal(0)
  })

  it('a replay killed half-way loses no message, and a second replay finishes without double effects', async () => {
    const ids = await publishFailing(Array.from({ length: 20 }, () => USER_REGISTERED))
    bug = false
    const first = startCli(['dlq', 'replay', dlq, '--all', '--rate', '10'], cli)
    await waitFor(async () => (await effectCounts(ids)).size >= 5, { timeoutMs: 15_000, what: 'the replay to be under way' })
    first.child.kill('SIGKILL')
    const killed = await first.done
    expect(killed.signal).to.equal('SIGKILL')

    // The broker returns what the dead process held: every message is processed or back in the DLQ.
    const processed = await effectCounts(ids)
    expect(processed.size, 'killed half-way').to.be.lessThan(20)
    const accounted = await waitFor(async () => {
      const inDlq = await shownIds()
      const done = await effectCounts(ids)
      return ids.every((id) => done.has(id) || inDlq.includes(id)) ? { inDlq, done } : undefined
    }, { timeoutMs: 15_000, what: 'every message processed or in the dead-letter queue' })
    expect(accounted.inDlq.length).to.be.greaterThan(0)

    const second = await runJson<any>(['dlq', 'replay', dlq, '--all'], cli)
    expect(second.failed).to.equal(0)
    await waitProcessedOnce(ids)
    expect(await depth()).to.equal(0)
  })

  it('exports without removing, and purges only when confirmed', async () => {
    const ids = await publishFailing([USER_REGISTERED, USER_UPDATED])
    const dir = mkdtempSync(join(tmpdir(), 'bazaar-export-'))
    try {
      const out = join(dir, 'dlq.jsonl')
      const exported = await runJson<any>(['dlq', 'export', dlq, '--out', out], cli)
      expect(exported.exported).to.equal(2)
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
      expect(lines.map((l) => l.id)).to.have.members(ids)
      expect(JSON.parse(lines[0].body).userId).to.be.a('string')
      expect(lines[0].headers['x-bazaar-original-queue']).to.equal(queue)
      expect(await depth()).to.equal(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }

    const refused = await runCli(['dlq', 'purge', dlq], cli)
    expect(refused.code).to.not.equal(0)
    expect(refused.stderr.trim().split('\n')).to.have.length(1)
    expect(await depth()).to.equal(2)

    const purged = await runJson<any>(['dlq', 'purge', dlq, '--yes'], cli)
    expect(purged).to.deep.equal({ dlq, purged: 2 })
    expect(await depth()).to.equal(0)
  })

  it('consumer skip moves the message an ordered consumer is stuck on to its dead-letter queue', async () => {
    const id = randomUUID()
    await bus.publisher.publish(PRODUCT_CREATED, {
      productId: randomUUID(), sellerId: randomUUID(), parentId: null, title: 'Lamp', description: 'A lamp',
      price: 1_000, currency: 'EUR', stock: 1, version: 1, updatedAt: new Date().toISOString()
    }, { messageId: id })
    await waitFor(() => ordered.isRetrying, { what: 'the ordered consumer to be retrying' })
    const skipped = await runJson<any>(['consumer', 'skip', 'clitest.ordered'], cli)
    expect(skipped).to.include({ dlq: orderedDlq, skipped: 1 })
    const [letter] = await runJson<any[]>(['dlq', 'show', orderedDlq], cli)
    expect(letter).to.include({ id, kind: 'skipped', originalQueue: names.queue(ns, 'clitest', 'ordered') })
    expect(letter.error).to.contain('cannot get past this message')
  })
})
