import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { closeUnfinished } from './close.ts'
import { IMPORT_DEADLINE } from './identity.ts'

const deadlinePayload = Type.Object({ importId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/** Sets the import's deadline in the upload's transaction (jobs, shared/jobs). */
export async function scheduleImportDeadline(app: ServiceApp, trx: Knex.Transaction, importId: string): Promise<void> {
  await app.get('jobs').schedule(trx, IMPORT_DEADLINE, { key: importId, runAt: { delayMs: serviceConfig(app, 'catalog').importDeadlineMs }, payload: { importId } })
}

/**
 * The deadline: an import not complete by then is closed rather than waited
 * on for ever (a chunk in the dead-letter queue, say). Its aggregation
 * expires (the rows not counted are counted failed), each row of a chunk
 * never counted gets an error line, and the import completes in this same
 * transaction: one notice, one email. A chunk that arrives later finds it
 * completed and does nothing; a last chunk committing now either wins (the
 * aggregation is no longer open: nothing to do here) or fails its count.
 */
export function importDeadlines(app: ServiceApp): void {
  app.get('jobs').define(IMPORT_DEADLINE, {
    payload: deadlinePayload,
    handler: async (job, trx) => {
      await closeUnfinished(app, trx, job.payload.importId, 'expired', 'not processed before the import deadline')
    }
  })
}
