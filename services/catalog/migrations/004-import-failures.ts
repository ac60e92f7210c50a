import type { Migration } from '../../../shared/db/migrations.ts'
import { aggregationFailedMigration } from '../../../shared/aggregation/tables.ts'
import { iteratorAttemptsMigration } from '../../../shared/iterator/tables.ts'

/** Bulk import: an iterator step retried a bounded number of times, and an import whose iterator gave up closed `failed`. */
export const importFailuresMigration: Migration = {
  name: '004_import_failures',
  async up(db) {
    await iteratorAttemptsMigration.up(db)
    await aggregationFailedMigration.up(db)
  }
}
