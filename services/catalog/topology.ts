import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { taskDeclaration, type TaskDeclaration } from '../../shared/bus/tasks.ts'
import { IMPORT_COMPLETED, IMPORT_PROGRESS, PRODUCT_CREATED, PRODUCT_UPDATED, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../shared/contracts/index.ts'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'

/**
 * `<ns>.catalog.order-events`: order.created (one per seller, with that
 * seller's lines) and order.cancelled, to count what is ordered of each
 * product, so the catalog shows what a buyer can still buy (`available`).
 * Increments commute, so out-of-order delivery is harmless and retries need
 * not block.
 */
export const orderEvents: ConsumerDeclaration = {
  service: 'catalog',
  purpose: 'order-events',
  bindings: ['order.created', 'order.cancelled'],
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }
}

/**
 * `<ns>.catalog.task-import-chunk`: one chunk of a bulk import's rows per
 * message, published by the import's iterator; competing consumers upsert the
 * products and count the chunk into the import's aggregation (imports/chunk.ts).
 */
export const importChunkTask: TaskDeclaration<'catalog', 'import-chunk'> = {
  service: 'catalog',
  name: 'import-chunk',
  retry: { kind: 'delayed', delaysMs: [1_000, 5_000, 30_000, 120_000] }
}

export const importChunks: ConsumerManifest = {
  ...taskDeclaration(importChunkTask),
  emits: [PRODUCT_CREATED, PRODUCT_UPDATED, IMPORT_PROGRESS, IMPORT_COMPLETED, TASK_NOTIFICATIONS_SEND_EMAIL]
}

/** The catalog is the source of product.* events (through its outbox); it consumes orders' counts and its own import chunks. */
export const consumers: ConsumerDeclaration[] = [orderEvents, importChunks]
