import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
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
  let smtp: TestSmtpServer
  let notifications: RunningApp
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
    gateway = await startApp(createGateway(env, { ...process.env, GATEWAY_CATCH_UP_INTERVAL_MS: '200', CATALOG_URL: catalog.url }))
    tap = await EventTap.open(ns, ['import.#', 'task.notifications.send-email'])
    smtp = await startSmtpServer()
    notifications = await startApp(createNotifications({ ...env, smtpUrl: smtp.url }))
  })

  after(async function () {
    for (const listener of listeners) listener.close()
    await tap?.close()
    await notifications?.stop()
    await smtp?.close()
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
    for (const row of rows) row.description += ' '.repeat(150) + 'end' // over 1 MB: the 20 MB limit of imports, through the gateway
    const file = csvOf(rows)
    expect(Buffer.byteLength(file)).to.be.greaterThan(1024 * 1024)
    const accepted = await upload(gateway.url, seller.token, file)
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
    // and the email itself, sent by notifications, once
    const mails = () => smtp.to(seller.email).filter((m) => m.raw.includes(id))
    await waitFor(() => mails().length === 1, { what: 'the completion email' })
    expect(mails()[0]!.subject).to.match(/import is done/)
  })

  it('importing the same file again updates, creates nothing new; a changed row gets a new version', async function () {
    const { rows } = generatedRows('again', 600)
    const first = await upload(catalog.url, other.token, csvOf(rows))
    expect(first.status).to.equal(202)
    await completed(first.body.id, other)
    const before = await productsOf(other.id)
    expect(before.length).to.equal(600)
    rows[9]!.title = 'Renamed'
    const second = await upload(catalog.url, other.token, csvOf(rows))
    expect(second.status).to.equal(202)
    expect(await completed(second.body.id, other)).to.include({ total: 600, done: 600, failed: 0 })
    const after = await productsOf(other.id)
    expect(after.length).to.equal(600)
    const renamed = after.find((p) => p.sku === 'again-10')!
    expect(renamed).to.include({ title: 'Renamed', version: 2 })
    expect(after.filter((p) => p.version !== 1).map((p) => p.sku)).to.deep.equal(['again-10'])
  })

  it('refused uploads keep nothing: bad header 400, not CSV 400, too many rows 413, no token 401, a buyer 403', async function () {
    const count = async () => (await catalog.app.get('db').withSchema(catalog.app.get('schema')).table('imports').count({ n: '*' }))[0].n
    const before = Number(await count())
    const badHeader = await upload(catalog.url, seller.token, 'sku,name,price\nA,B,1\n')
    expect(badHeader.status).to.equal(400)
    expect(badHeader.body.data).to.have.property('header')
    const notCsv = await upload(catalog.url, seller.token, 'sku,title,description,price,currency,stock\n"unclosed,quote,x,1,EUR,1\n')
    expect(notCsv.status).to.equal(400)
    expect(notCsv.body.data).to.have.property('body')
    const json = await call(catalog.url, 'POST', '/imports', { token: seller.token, body: { sku: 'x' } })
    expect(json.status).to.equal(400)
    const { rows } = generatedRows('many', 100_001)
    const tooMany = await upload(catalog.url, seller.token, csvOf(rows))
    expect(tooMany.status).to.equal(413)
    const huge = 'sku,title,description,price,currency,stock\n' + 'x'.repeat(21 * 1024 * 1024)
    expect((await upload(catalog.url, seller.token, huge)).status).to.equal(413)
    expect((await upload(gateway.url, seller.token, huge)).status).to.equal(413)
    // any other path keeps the 1 MB limit
    expect((await call(catalog.url, 'POST', '/products', { token: seller.token, body: huge, headers: { 'content-type': 'application/json' } })).status).to.equal(413)
    expect((await upload(catalog.url, '', csvOf(rows.slice(0, 1)))).status).to.equal(401)
    expect((await upload(catalog.url, identity('buyer').token, csvOf(rows.slice(0, 1)))).status).to.equal(403)
    expect(Number(await count())).to.equal(before)
    const staged = await catalog.app.get('db').withSchema(catalog.app.get('schema')).table('products').where('sku', 'like', 'many-%').count({ n: '*' })
    expect(Number(staged[0].n)).to.equal(0)
  })

  it("an import is its seller's: another seller gets 403, an unknown id 404", async function () {
    const mine = await upload(catalog.url, seller.token, csvOf(generatedRows('own', 3).rows))
    expect(mine.status).to.equal(202)
    expect((await call(catalog.url, 'GET', `/imports/${mine.body.id}`, { token: other.token })).status).to.equal(403)
    expect((await call(catalog.url, 'GET', `/imports/${mine.body.id}/errors`, { token: other.token })).status).to.equal(403)
    expect((await call(catalog.url, 'DELETE', `/imports/${mine.body.id}`, { token: other.token })).status).to.equal(403)
    expect((await call(catalog.url, 'GET', '/imports/00000000-0000-4000-8000-000000000000', { token: seller.token })).status).to.equal(404)
    expect((await call(catalog.url, 'GET', '/imports/nope', { token: seller.token })).status).to.equal(404)
    await completed(mine.body.id)
  })

  it('two sellers importing at once get their own products and their own notices only', async function () {
    const a = identity('seller')
    const b = identity('seller')
    const [streamA, streamB] = [await stream(a.token), await stream(b.token)]
    // the same skus for both: unique per seller, not across sellers
    const [upA, upB] = await Promise.all([
      upload(catalog.url, a.token, csvOf(generatedRows('shared', 1_500).rows)),
      upload(catalog.url, b.token, csvOf(generatedRows('shared', 1_000, () => false, 900).rows))
    ])
    expect([upA.status, upB.status]).to.deep.equal([202, 202])
    const [doneA, doneB] = await Promise.all([completed(upA.body.id, a), completed(upB.body.id, b)])
    expect(doneA).to.include({ total: 1_500, done: 1_500, failed: 0 })
    expect(doneB).to.include({ total: 1_000, done: 1_000, failed: 0 })
    const [productsA, productsB] = [await productsOf(a.id), await productsOf(b.id)]
    expect(productsA.length).to.equal(1_500)
    expect(productsB.length).to.equal(1_000)
    expect(productsB.every((p) => p.price > 900)).to.equal(true)
    await waitFor(() => notices(streamA, upA.body.id, 'import.completed').length === 1 && notices(streamB, upB.body.id, 'import.completed').length === 1, { what: 'both completion notices' })
    expect(streamA.of('notice').filter((e) => e.data.importId === upB.body.id)).to.deep.equal([])
    expect(streamB.of('notice').filter((e) => e.data.importId === upA.body.id)).to.deep.equal([])
  })

  it('with flag imports switched off, POST /imports answers 403; switched on again, 202', async function () {
    const admin = identity('admin')
    const flag = (enabled: boolean) => call(reference.url, 'PUT', '/flags/imports', { token: admin.token, body: { enabled } })
    const file = csvOf(generatedRows('flag', 2).rows)
    expect((await flag(false)).status).to.equal(200)
    try {
      await waitFor(async () => (await upload(catalog.url, seller.token, file)).status === 403, { timeoutMs: 5_000, what: 'POST /imports to answer 403' })
    } finally {
      expect((await flag(true)).status).to.equal(200)
    }
    await waitFor(async () => {
      const response = await upload(catalog.url, seller.token, file)
      return response.status === 202 && response
    }, { timeoutMs: 5_000, what: 'POST /imports to answer 202 again' })
  })

  it('a file with only the header completes at once, with its one completion notice; an empty body is a 400', async function () {
    const empty = await upload(catalog.url, seller.token, 'sku,title,description,price,currency,stock\n')
    expect(empty.status).to.equal(202)
    expect(await completed(empty.body.id)).to.include({ total: 0, done: 0, failed: 0 })
    await tap.next((e) => e.routingKey === 'import.completed' && e.payload.importId === empty.body.id, { what: 'the completion of an empty import' })
    const nothing = await upload(catalog.url, seller.token, '')
    expect(nothing.status).to.equal(400)
    expect(nothing.body.data).to.have.property('header')
    expect((await call(catalog.url, 'GET', '/imports', { token: seller.token })).status).to.equal(405)
  })
})
