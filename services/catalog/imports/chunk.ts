import type { Knex } from 'knex'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { writeOutboxMany } from '../../../shared/bus/outbox.ts'
import { taskConsumer } from '../../../shared/bus/tasks.ts'
import { PRODUCT_CREATED, PRODUCT_UPDATED, TASK_CATALOG_IMPORT_CHUNK } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { caughtUpReferenceData } from '../../../shared/kv/reference.ts'
import { toProductEvent } from '../resources/products/products.schema.ts'
import { importChunkTask } from '../topology.ts'
import { finishImport, writeProgress, type ImportRecord } from './finish.ts'
import { aggregationsOf, outboxOf } from './identity.ts'
import { readStagedRows } from './blocks.ts'
import { checkRows } from './rows.ts'
import { upsertProducts } from './upsert.ts'

/**
 * The import's competing chunk workers (`<ns>.catalog.task-import-chunk`): one
 * chunk is one transaction of its inbox row, its products' upserts and
 * product.* events, its rejected rows, and the aggregation's count, so a
 * chunk counts once whatever is redelivered or killed. The transaction that
 * counts the last chunk completes the import.
 */
export function importChunksConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const aggregations = aggregationsOf(app)
  const config = serviceConfig(app, 'catalog')
  const effect = async (message: Envelope<typeof TASK_CATALOG_IMPORT_CHUNK>, trx: Knex.Transaction) => {
    const { importId, fromRow, toRow } = message.payload
    const record: ImportRecord | undefined = await trx.withSchema(schema).table('imports').where({ id: importId }).first()
    // cancelled (or closed by its deadline): the chunk is acknowledged without any effect
    if (!record || record.status === 'cancelled' || record.status === 'completed') return
    const staged = await readStagedRows(trx, schema, importId, fromRow, toRow)
    const { valid, accepted, rejected } = checkRows(staged, await caughtUpReferenceData(app))
    const changed = await upsertProducts(trx, schema, record.sellerId, valid)
    await writeOutboxMany(trx, outboxOf(app), changed.map((product) => ({ routingKey: product.inserted ? PRODUCT_CREATED : PRODUCT_UPDATED, payload: toProductEvent(product) })))
    if (rejected.length > 0) {
      await trx.withSchema(schema).table('import_errors').insert(rejected.map((r) => ({ import_id: importId, ...r }))).onConflict(['import_id', 'row']).ignore()
    }
    await trx.withSchema(schema).table('import_chunks').insert({ import_id: importId, from_row: fromRow, to_row: toRow })
    // last: the counter row's lock is held only from here to the commit
    const outcome = await aggregations.record(trx, importId, { done: accepted, failed: rejected.length }, config.importProgressEveryMs)
    if (outcome.completed) await finishImport(app, trx, record, outcome.row)
    else if (outcome.progressDue) await writeProgress(app, trx, record, outcome.row)
  }
  // A chunk whose import is cancelled while it runs fails its commit (AggregationClosed) and rolls back; its
  // redelivery (after the retry delay) finds the import cancelled and is acknowledged without an effect.
  const handler = idempotent({ db: app.get('db'), schema, consumer: 'import-chunk', logger: app.get('logger') }, effect)
  taskConsumer(app, { ...importChunkTask, prefetch: config.importWorkers, handler })
}
