import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { listen, opened, type Listener } from '../../services/gateway/test/support.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call, csvOf, generatedRows, upload } from './support.ts'

const ns = uniqueNamespace('import')

describe('bulk product import: POST /imports, chunks on a queue, progress and one completion', function () {
  let reference: RunningApp
  let catalog: RunningApp
  let gateway: RunningApp
  let tap: EventTap
  const listeners: Listener[] = []
  const seller = identity('seller')
  const other = identity('seller')

  const stream = async (token: string) => {
    const listener = listen(gateway.url, token)
    listeners.push(listener)
    await opened(listener)
    return listener
  }
  const notices = (listener: Listener, importId: string, kind?: string) =>
    listener.of('notice').map((e) => e.data).filter((d) => d.importId === importId && (!kind || d.kind === kind))
  const completed = (importId: string, owner = seller) =>
    waitFor(async () => {
      const { body } = await call(catalog.url, 'GET', `/imports/${importId}`, { token: owner.token })
      return body.status === 'completed' && body
    }, { timeoutMs: 25_000, what: `import ${importId} to complete` })
  const productsOf = async (sellerId: string) => {
    const db = catalog.app.get('db')
    return db.withSchema(catalog.app.get('schema')).table('products').where({ sellerId }).select('sku', 'title', 'price', 'version')
  }

  before(async function () {
    const env = testEnv(ns)
    reference = await startApp(createReference(env))
    catalog = await startApp(createCatalog(env, { importChunkRows: 250, importProgressEveryMs: 200 }))
    gateway = await startApp(createGateway(env, { ...process.env, GATEWAY_CATCH_UP_INTERVAL_MS: '200' }))
    tap = await EventTap.open(ns, ['import.#', 'task.notifications.send-email'])
  })

  after(async function () {
    for (const listener of listeners) listener.close()
    await tap?.close()
    await gateway?.stop()
    await catalog?.stop()
    await reference?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('10,000 rows with 3% bad: done + failed = total, the errors are exactly the bad rows, one product per sku, one completion', async function () {
    const mine = await stream(seller.token)
    const theirs = await stream(other.token)
    const { rows, badRows } = generatedRows('big', 10_000, (n) => n % 33 === 0 || n === 10_000)
    const accepted = await upload(catalog.url, seller.token, csvOf(rows))
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202)
    expect(accepted.body).to.have.keys('id', 'status')
    expect(accepted.body.status).to.equal('accepted')
    expect(accepted.headers.get('location')).to.equal(`/imports/${accepted.body.id}`)
    const id: string = accepted.body.id

    const done = await completed(id)
    expect(done).to.include({ id, status: 'completed', total: 10_000, done: 10_000 - badRows.length, failed: badRows.length })
    expect(done.completedAt).to.be.a('string')

    const errors = await fetch(new URL(`/imports/${id}/errors`, catalog.url), { headers: { authorization: `Bearer ${seller.token}` } })
    expect(errors.status).to.equal(200)
    expect(errors.headers.get('content-type')).to.match(/^text\/csv/)
    const lines = parse(await errors.text(), { columns: true }) as Array<{ row: string; sku: string; error: string }>
    expect(lines.map((l) => Number(l.row))).to.deep.equal(badRows)
    expect(lines.map((l) => l.sku)).to.deep.equal(badRows.map((n) => `big-${n}`))
    expect(lines.every((l) => l.error.length > 0)).to.equal(true)

    const products = await productsOf(seller.id)
    expect(products.length).to.equal(10_000 - badRows.length)
    expect(new Set(products.map((p) => p.sku)).size).to.equal(products.length)

    // exactly one completion notice, on the seller's stream only; progress too only there
    await waitFor(() => notices(mine, id, 'import.completed').length === 1, { what: 'the completion notice' })
    const [completion] = notices(mine, id, 'import.completed')
    expect(completion).to.deep.equal({ kind: 'import.completed', importId: id, status: 'completed', total: 10_000, done: done.done, failed: done.failed })
    expect(notices(mine, id, 'import.progress').length).to.be.greaterThan(0)
    for (const progress of notices(mine, id, 'import.progress')) expect(progress).to.include({ status: 'running', total: 10_000 })
    expect(notices(theirs, id)).to.deep.equal([])
    // one email task for this import
    await tap.next((e) => e.routingKey === 'task.notifications.send-email' && e.payload.text.includes(id), { what: 'the email task' })
    expect(tap.events.filter((e) => e.routingKey === 'import.completed' && e.payload.importId === id)).to.have.length(1)
    expect(tap.events.filter((e) => e.routingKey === 'task.notifications.send-email' && e.payload.text.includes(id))).to.have.length(1)
  })
})
