import { expect } from 'chai'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Supervised } from '../../chaos/supervisor.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { createKnex, schemaName } from '../../shared/db/database.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { csvOf, generatedRows, upload } from './support.ts'

const ROWS = 20_000

describe('bulk product import: the catalog process SIGKILLed twice during a 20,000-row import', function () {
  this.timeout(180_000)
  const ns = uniqueNamespace('import-kill')
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const url = `http://127.0.0.1:${port}`
  const db = createKnex(testEnv(ns).databaseUrl, schemaName(ns, 'catalog'))
  const catalog = new Supervised({
    name: `catalog-${ns}`,
    args: ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'services', 'catalog', 'index.ts')],
    // a short lease: the restarted process takes the iteration over within a second
    env: { ...process.env, NODE_ENV: 'test', BAZAAR_NAMESPACE: ns, CATALOG_PORT: String(port), IMPORT_LEASE: '1000', IMPORT_CHUNK_ROWS: '250' },
    healthUrl: `${url}/health`,
    logDir: join(tmpdir(), 'bazaar-import-kill')
  })
  let reference: RunningApp
  let tap: EventTap
  const seller = identity('seller')

  before(async () => {
    reference = await startApp(createReference(testEnv(ns)))
    tap = await EventTap.open(ns, ['import.completed', 'task.notifications.send-email'])
    await catalog.start()
  })

  after(async () => {
    await catalog.kill('SIGKILL')
    catalog.close()
    await tap?.close()
    await reference?.stop()
    await db.destroy()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  const counted = async (id: string) => (await db('aggregations').where({ id }).first()) as { done: number; failed: number; items_done: number; items_total: number; state: string }

  it('completes: no product doubled, no row lost, the completion once', async () => {
    const accepted = await upload(url, seller.token, csvOf(generatedRows('kill', ROWS).rows))
    expect(accepted.status).to.equal(202)
    const id: string = accepted.body.id

    await waitFor(async () => (await counted(id)).done >= ROWS * 0.2, { timeoutMs: 60_000, intervalMs: 20, what: '20% of the rows done' })
    await catalog.restart('SIGKILL') // mid-chunk and mid-step, most likely: both transactions roll back
    await waitFor(async () => (await counted(id)).done >= ROWS * 0.6, { timeoutMs: 60_000, intervalMs: 20, what: '60% of the rows done' })
    await catalog.restart('SIGKILL')

    await waitFor(async () => (await counted(id)).state === 'completed', { timeoutMs: 90_000, intervalMs: 100, what: 'the import to complete' })
    const counts = await counted(id)
    expect(counts).to.include({ done: ROWS, failed: 0, items_done: ROWS / 250, items_total: ROWS / 250 })
    const { rows } = await db.raw(`select count(*)::int as products, count(distinct sku)::int as skus, max(version)::int as version from products where "sellerId" = ?`, [seller.id])
    expect(rows[0]).to.deep.equal({ products: ROWS, skus: ROWS, version: 1 })
    expect((await db('imports').where({ id }).first()).status).to.equal('completed')
    // the completion and its email, once each (relayed after the last chunk's commit, whichever process made it)
    await tap.next((e) => e.routingKey === 'import.completed' && e.payload.importId === id, { timeoutMs: 20_000, what: 'import.completed' })
    await tap.next((e) => e.routingKey === 'task.notifications.send-email' && e.payload.text.includes(id), { timeoutMs: 20_000, what: 'the email task' })
    const completions = () => tap.events.filter((e) => e.routingKey === 'import.completed' && e.payload.importId === id).length
    expect(completions()).to.equal(1)
    // nothing later: every outbox row of the catalog is relayed (none left), and still one
    await waitFor(async () => Number((await db('outbox').count({ n: '*' }))[0]!.n) === 0, { timeoutMs: 30_000, what: 'the outbox to drain' })
    expect(completions()).to.equal(1)
  })
})
