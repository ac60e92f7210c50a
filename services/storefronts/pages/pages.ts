import { onStart } from '../../../shared/feathers/app.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { PageInvalidations } from './invalidation.ts'
import { PageCache } from './page-cache.ts'

/**
 * This instance's page cache and its LISTEN for other instances' commits.
 * The projector's own `changed` events reach it in projection.ts. Pages
 * are answered from memory only while the LISTEN is in place.
 */
export function storefrontPages(app: ServiceApp): void {
  const config = serviceConfig(app, 'storefronts')
  const invalidations = new PageInvalidations({
    databaseUrl: app.get('env').databaseUrl,
    schema: app.get('schema'),
    cache: () => cache,
    logger: app.get('logger')
  })
  const cache: PageCache = new PageCache({ ttlMs: config.cacheTtlMs, maxEntries: config.cacheEntries, trusted: () => invalidations.listening })
  app.set('storefrontPages', cache)
  // listening before the projector starts (configured after this) and before any request is answered
  onStart(app, async () => {
    if (config.cacheTtlMs > 0) await invalidations.start()
  })
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        await next()
        await invalidations.stop()
      }
    ]
  })
}

/** The page cache of a storefronts app (the resource, the fast path, tests). */
export function pageCacheOf(app: ServiceApp): PageCache {
  const cache = app.get('storefrontPages')
  if (!cache) throw new Error('not a storefronts app')
  return cache
}
