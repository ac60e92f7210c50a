import { enqueueTask } from '../../../shared/bus/tasks.ts'
import { TASK_CATALOG_IMPORT_CHUNK } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import type { Iterator } from '../../../shared/iterator/iterator.ts'
import { closeUnfinished } from './close.ts'
import type { ImportRecord } from './finish.ts'
import { aggregationsOf, IMPORT_ITERATION, outboxOf } from './identity.ts'

/** Chunk messages one step publishes (one transaction with the cursor). */
const CHUNKS_PER_STEP = 4

/**
 * An import on the iterator: the cursor is the next staged row to hand out;
 * a step writes the next few chunk tasks to the outbox and moves the cursor,
 * in one transaction, so a crash neither loses a chunk nor publishes one
 * twice. It waits (throttle) while more than `importMaxInFlight` chunks are
 * published and not yet counted, so a 100,000-row file does not flood the
 * queue and the workers' database.
 */
export function defineImportIteration(app: ServiceApp, iterator: Iterator): void {
  const schema = app.get('schema')
  const config = serviceConfig(app, 'catalog')
  const chunk = config.importChunkRows
  const aggregations = aggregationsOf(app)
  iterator.define<number>(IMPORT_ITERATION, {
    ready: async ({ id, cursor }) => {
      const counts = await aggregations.get(app.get('db'), id)
      // a closed import (cancelled, or its deadline passed) counts no more chunks: let the step see it and end
      return !counts || counts.state !== 'open' || Math.ceil((cursor - 1) / chunk) - counts.itemsDone < config.importMaxInFlight
    },
    step: async (trx, { id, cursor }) => {
      const record: ImportRecord | undefined = await trx.withSchema(schema).table('imports').where({ id }).first()
      if (!record || record.status === 'cancelled' || record.status === 'completed') return { cursor, done: true }
      if (record.status === 'accepted') await trx.withSchema(schema).table('imports').where({ id, status: 'accepted' }).update({ status: 'running' })
      let next = cursor
      for (let i = 0; i < CHUNKS_PER_STEP && next <= record.total; i++) {
        const toRow = Math.min(next + chunk - 1, record.total)
        await enqueueTask(trx, outboxOf(app), TASK_CATALOG_IMPORT_CHUNK, { importId: id, fromRow: next, toRow })
        next = toRow + 1
      }
      return { cursor: next, done: next > record.total }
    },
    // the step kept failing: the import ends now rather than at its deadline, its unsent rows reported with the reason
    failed: async (trx, { id, reason }) => {
      await closeUnfinished(app, trx, id, 'failed', `not processed: the import's iterator gave up (${reason.slice(0, 200)})`)
    }
  })
}
