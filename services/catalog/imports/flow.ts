import { onStart } from '../../../shared/feathers/app.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { Iterator } from '../../../shared/iterator/iterator.ts'
import { importChunksConsumer } from './chunk.ts'
import { importDeadlines } from './deadline.ts'
import { defineImportIteration } from './iterate.ts'

/**
 * The bulk import's machinery behind `/imports`: the iterator that hands the
 * staged rows out in chunks, the chunk workers, and the deadline job. The
 * iterator starts with the app (after migrations) and stops at teardown
 * before the bus, the relay and the database.
 */
export function importFlow(app: ServiceApp): void {
  const config = serviceConfig(app, 'catalog')
  const iterator = new Iterator({
    db: app.get('db'),
    databaseUrl: app.get('env').databaseUrl,
    schema: app.get('schema'),
    logger: app.get('logger'),
    leaseMs: config.importLeaseMs,
    maxAttempts: config.importStepAttempts,
    retryBaseMs: config.importStepRetryMs
  })
  app.set('iterator', iterator)
  defineImportIteration(app, iterator)
  importChunksConsumer(app)
  importDeadlines(app)
  onStart(app, () => iterator.startRunner())
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        await iterator.stop()
        await next()
      }
    ]
  })
}
