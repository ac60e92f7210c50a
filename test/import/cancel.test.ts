import { expect } from 'chai'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { identity, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call, cleanUp, csvOf, generatedRows, upload } from './support.ts'

const ns = uniqueNamespace('import-cancel')

describe('bulk product import: cancel mid-way', function () {
  let reference: RunningApp
  let catalog: RunningApp
  const seller = identity('seller')
  const table = (name: string) => catalog.app.get('db').withSchema(catalog.app.get('schema')).table(name)
  const count = async (query: any) => Number((await query.count({ n: '*' }))[0].n)

  before(async function () {
    const env = testEnv(ns)
    reference = await startApp(createReference(env))
    // small chunks, few in flight, one worker: the import is still running when the test cancels it
    catalog = await startApp(createCatalog(env, { importChunkRows: 50, importMaxInFlight: 2, importWorkers: 1 }))
  })

  after(() => cleanUp(ns, catalog, reference))

  it('DELETE while it runs: status cancelled, and no product is written after the cancel commits', async function () {
    const accepted = await upload(catalog.url, seller.token, csvOf(generatedRows('cancel', 5_000).rows))
    expect(accepted.status).to.equal(202)
    const id: string = accepted.body.id
    await waitFor(async () => (await call(catalog.url, 'GET', `/imports/${id}`, { token: seller.token })).body.done >= 100, { what: 'the import to be under way' })

    const cancelled = await call(catalog.url, 'DELETE', `/imports/${id}`, { token: seller.token })
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200)
    expect(cancelled.body).to.include({ id, status: 'cancelled', total: 5_000 })
    expect(cancelled.body.done).to.be.lessThan(5_000)
    const doneAtCancel: number = cancelled.body.done

    // every chunk published before the cancel is delivered and answered (the inbox records each), without an effect
    const iteration = await table('iterations').where({ id }).first()
    expect(iteration.state).to.equal('cancelled')
    const published = Math.ceil((iteration.cursor - 1) / 50)
    await waitFor(async () => (await count(table('inbox').where({ consumer: 'import-chunk' }))) >= published, { timeoutMs: 20_000, what: 'every published chunk to be answered' })

    expect(await count(table('products').where({ sellerId: seller.id }))).to.equal(doneAtCancel)
    const after = await call(catalog.url, 'GET', `/imports/${id}`, { token: seller.token })
    expect(after.body).to.include({ status: 'cancelled', done: doneAtCancel, failed: 0 })
    // cancelling again changes nothing
    expect((await call(catalog.url, 'DELETE', `/imports/${id}`, { token: seller.token })).body).to.include({ status: 'cancelled', done: doneAtCancel })
  })
})
