import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { identity, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { call, csvOf, generatedRows, importApps, upload } from './support.ts'

const ns = uniqueNamespace('import-deadline')

describe('bulk product import: the deadline closes an import that does not finish in time', function () {
  // slow on purpose: one worker, one small chunk in flight, and a deadline of 1.5 s
  const apps = importApps(ns, { importChunkRows: 20, importMaxInFlight: 1, importWorkers: 1, importDeadlineMs: 1_500 })
  const seller = identity('seller')

  it('completes at the deadline: done + failed = total, the unprocessed rows listed as errors, one completion notice', async function () {
    const { catalog, tap } = apps
    const total = 20_000
    const accepted = await upload(catalog.url, seller.token, csvOf(generatedRows('late', total).rows))
    expect(accepted.status).to.equal(202)
    const id: string = accepted.body.id
    const done = await waitFor(async () => {
      const { body } = await call(catalog.url, 'GET', `/imports/${id}`, { token: seller.token })
      return body.status === 'completed' && body
    }, { timeoutMs: 15_000, what: 'the deadline to complete the import' })
    expect(done.done + done.failed).to.equal(total)
    expect(done.failed).to.be.greaterThan(0)
    const errors = await fetch(new URL(`/imports/${id}/errors`, catalog.url), { headers: { authorization: `Bearer ${seller.token}` } })
    const lines = parse(await errors.text(), { columns: true }) as Array<{ row: string; sku: string; error: string }>
    expect(lines).to.have.length(done.failed)
    expect(new Set(lines.map((l) => l.error))).to.deep.equal(new Set(['not processed before the import deadline']))
    await tap.next((e) => e.payload.importId === id, { what: 'import.completed' })
    expect(tap.events.filter((e) => e.payload.importId === id)).to.have.length(1)
    // the iterator stops, and every chunk it published is answered: those after the deadline without a write
    const table = (name: string) => catalog.app.get('db').withSchema(catalog.app.get('schema')).table(name)
    const iteration = await waitFor(async () => {
      const row = await table('iterations').where({ id }).first()
      return row.state === 'done' && row
    }, { what: 'the iteration to stop' })
    const published = Math.ceil((iteration.cursor - 1) / 20)
    await waitFor(async () => Number((await table('inbox').where({ consumer: 'import-chunk' }).count({ n: '*' }))[0]!.n) >= published, { what: 'every published chunk to be answered' })
    const products = await table('products').where({ sellerId: seller.id }).count({ n: '*' })
    expect(Number(products[0]!.n)).to.equal(done.done)
  })
})
