import type { Knex } from 'knex'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { finishImport, type ImportRecord } from './finish.ts'
import { aggregationsOf } from './identity.ts'

/**
 * Ends an import that will not get all its chunks (its deadline passed, or
 * its iterator job gave up): the aggregation closes (`expired` or `failed`:
 * the rows not counted are counted failed, so done + failed = total), each
 * row of a chunk never counted gets `error` in the errors file, and the import
 * completes in this transaction: one notice, one email. False when the
 * aggregation was closed already (completed, cancelled): nothing to do then.
 * The aggregation is locked first, as by every writer of an import.
 */
export async function closeUnfinished(app: ServiceApp, trx: Knex.Transaction, importId: string, state: 'expired' | 'failed', error: string): Promise<boolean> {
  const schema = app.get('schema')
  const counts = await aggregationsOf(app).close(trx, importId, state)
  if (!counts) return false
  const record: ImportRecord = await trx.withSchema(schema).table('imports').where({ id: importId }).first()
  await trx.raw(
    `insert into ??.import_errors (import_id, row, sku, error)
     select r.import_id, r.row, nullif(r.fields->>'sku', ''), ?
     from (select b.import_id, b.from_row + e.n::int - 1 as row, e.fields
           from ??.import_blocks b cross join lateral json_array_elements(b.rows) with ordinality as e(fields, n)
           where b.import_id = ?) r
     where not exists (select 1 from ??.import_chunks c where c.import_id = r.import_id and r.row between c.from_row and c.to_row)
     on conflict do nothing`,
    [schema, error, schema, record.id, schema]
  )
  await finishImport(app, trx, record, counts)
  return true
}
