import { IMPORT_COMPLETED, TASK_CATALOG_IMPORT_CHUNK, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../shared/contracts/index.ts'
import type { PublisherManifest } from '../../../shared/manifest/publisher.ts'

/** What the import's iterator steps emit: the chunk tasks (scripts/docs lists it among their producers). */
export const importIterationManifest: PublisherManifest = {
  producer: 'catalog',
  file: 'services/catalog/imports/iterate.ts',
  via: 'enqueueTask() in the iterator steps of kind `import`',
  emits: [TASK_CATALOG_IMPORT_CHUNK]
}

/** What the import's deadline job emits when it closes an import that did not complete in time. */
export const importDeadlineManifest: PublisherManifest = {
  producer: 'catalog',
  file: 'services/catalog/imports/deadline.ts',
  via: 'writeOutbox() and enqueueTask() in its delayed job `import-deadline`',
  emits: [IMPORT_COMPLETED, TASK_NOTIFICATIONS_SEND_EMAIL]
}
