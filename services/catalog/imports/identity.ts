import type { OutboxIdentity } from '../../../shared/bus/outbox.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { Aggregations } from '../../../shared/aggregation/aggregation.ts'

/** Where the import flow's events and tasks are written: the catalog's outbox. */
export const outboxOf = (app: ServiceApp): OutboxIdentity => ({ namespace: app.get('namespace'), appId: app.get('service'), schema: app.get('schema') })

/** The imports' counters (one aggregation per import, keyed by the import's id). */
export const aggregationsOf = (app: ServiceApp) => new Aggregations(app.get('schema'))

/** The name of the import's kind on the iterator, and of its deadline job. */
export const IMPORT_ITERATION = 'import'
export const IMPORT_DEADLINE = 'import-deadline'
