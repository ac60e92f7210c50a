import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { TASK_CATALOG_IMPORT_CHUNK } from '../../shared/contracts/index.ts'
import { identity, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { call, csvOf, generatedRows, importApps, upload } from './support.ts'

const ns = uniqueNamespace('import-failure')

describe('bulk product import: an iterator step that keeps failing ends the import instead of retrying for ever', function () {
  const apps = importApps(ns, { importChunkRows: 100, importStepAttempts: 3, importStepRetryMs: 50 })
  const seller = identity('seller')

  it('after 3 failed attempts: completed, done + failed = total, every row in the errors file with the reason, one notice', async function () {
    const { catalog, tap } = apps
    const db = catalog.app.get('db')
    const schema = catalog.app.get('schema')
    // a real failure of the step's own write: the outbox refuses the chunk tasks (not valid: only new rows are checked)
    await db.raw(`alter table ??.outbox add constraint refuse_chunks check (routing_key <> '${TASK_CATALOG_IMPORT_CHUNK}') not valid`, [schema])
    const total = 1_000
    const accepted = await upload(catalog.url, seller.token, csvOf(generatedRows('stuck', total).rows))
    expect(accepted.status).to.equal(202)
    const id: string = accepted.body.id
    const done = await waitFor(async () => {
      const { body } = await call(catalog.url, 'GET', `/imports/${id}`, { token: seller.token })
      return body.status === 'completed' && body
    }, { timeoutMs: 15_000, what: 'the failed iterator to end the import' })
    expect(done).to.include({ total, done: 0, failed: total })
    const iteration = await db.withSchema(schema).table('iterations').where({ id }).first()
    expect(iteration).to.include({ state: 'failed', attempts: 3 })
    expect(iteration.last_error).to.contain('refuse_chunks')
    const errors = await fetch(new URL(`/imports/${id}/errors`, catalog.url), { headers: { authorization: `Bearer ${seller.token}` } })
    const lines = parse(await errors.text(), { columns: true }) as Array<{ row: string; sku: string; error: string }>
    expect(lines.map((l) => Number(l.row))).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1))
    expect(lines[0]!.sku).to.equal('stuck-1')
    expect(new Set(lines.map((l) => l.error.startsWith("not processed: the import's iterator gave up") && l.error.includes('refuse_chunks')))).to.deep.equal(new Set([true]))
    const [notice] = await tap.next((e) => e.payload.importId === id, { what: 'import.completed' })
    expect(notice!.payload).to.include({ status: 'completed', total, done: 0, failed: total, sellerId: seller.id })
    const aggregation = await db.withSchema(schema).table('aggregations').where({ id }).first()
    expect(aggregation.state).to.equal('failed')
    // the deadline job is cancelled with the completion; nothing else is written for this import
    expect(Number((await db.withSchema(schema).table('products').where({ sellerId: seller.id }).count({ n: '*' }))[0]!.n)).to.equal(0)
    expect(tap.events.filter((e) => e.payload.importId === id)).to.have.length(1)
  })
})
