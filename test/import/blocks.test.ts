import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { readEnv } from '../../shared/config/env.ts'
import { createKnex } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { dropNamespaceSchemas, uniqueNamespace } from '../../shared/testing/index.ts'
import { readStagedRows, stageBlocks } from '../../services/catalog/imports/blocks.ts'
import { migrations } from '../../services/catalog/migrations/index.ts'
import type { StagedFields } from '../../services/catalog/resources/imports/upload.ts'

const ns = uniqueNamespace('import_blocks')
const schema = `${ns}_catalog`

const fieldsOf = (n: number): StagedFields =>
  n % 97 === 0 ? { unreadable: `expected 6 fields, got ${n % 5}` } : { sku: `sku-${n}`, title: `Item ${n}, "quoted"`, description: `line one\nline two ${n}`, price: String(n), currency: 'EUR', stock: String(n % 50) }

/** Staged rows in blocks of 500 (services/catalog/imports/blocks.ts), on a real database, and the migration from one row per row. */
describe('bulk import staging: rows in blocks', function () {
  const { databaseUrl } = readEnv()
  let db: Knex
  const newImport = async (total: number) => {
    const id = randomUUID()
    await db.withSchema(schema).table('imports').insert({ id, sellerId: 'seller', status: 'accepted', total, createdAt: new Date() })
    return id
  }

  before(async () => {
    db = createKnex(databaseUrl, schema, { min: 0, max: 4 })
    // the schema as it was before blocks: import_rows, one row per staged row
    await migrate(db, schema, migrations.filter((m) => m.name !== '005_import_blocks'))
  })

  after(async () => {
    await db.destroy()
    await dropNamespaceSchemas(ns)
  })

  it('moves the rows staged one per row into blocks, so an import staged before the migration goes on', async () => {
    const id = await newImport(1_203)
    const rows = Array.from({ length: 1_203 }, (_, i) => ({ import_id: id, row: i + 1, fields: JSON.stringify(fieldsOf(i + 1)) }))
    await db.withSchema(schema).table('import_rows').insert(rows)
    await migrate(db, schema, migrations)
    const blocks = await db.withSchema(schema).table('import_blocks').where({ import_id: id }).orderBy('from_row').select('from_row', 'to_row')
    expect(blocks).to.deep.equal([{ from_row: 1, to_row: 500 }, { from_row: 501, to_row: 1_000 }, { from_row: 1_001, to_row: 1_203 }])
    expect((await db.raw("select to_regclass(?) as t", [`"${schema}".import_rows`])).rows[0].t).to.equal(null)
    await db.transaction(async (trx) => {
      const staged = await readStagedRows(trx, schema, id, 495, 1_010)
      expect(staged.map((r) => r.row)).to.deep.equal(Array.from({ length: 516 }, (_, i) => 495 + i))
      expect(staged.map((r) => r.fields)).to.deep.equal(staged.map((r) => fieldsOf(r.row)))
    })
  })

  it('stages a file in blocks and reads any row range back in order, whatever the chunk size', async () => {
    const total = 2_345
    const id = await newImport(total)
    const fields = Array.from({ length: total }, (_, i) => fieldsOf(i + 1))
    await db.transaction((trx) => stageBlocks(trx, schema, id, fields))
    expect(Number((await db.withSchema(schema).table('import_blocks').where({ import_id: id }).count({ n: '*' }))[0]!.n)).to.equal(5)
    await db.transaction(async (trx) => {
      for (const chunk of [7, 333, 500, 1_000, 5_000]) {
        const read: number[] = []
        for (let from = 1; from <= total; from += chunk) {
          const staged = await readStagedRows(trx, schema, id, from, Math.min(from + chunk - 1, total))
          for (const r of staged) expect(r.fields).to.deep.equal(fields[r.row - 1])
          read.push(...staged.map((r) => r.row))
        }
        expect(read, `chunks of ${chunk}`).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1))
      }
    })
  })
})
