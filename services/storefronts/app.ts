import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { storefrontsConfigFromEnv, storefrontsConfigSchema, type StorefrontsConfig } from './config.ts'
import { migrations } from './migrations/index.ts'
import { storefrontPages } from './pages/pages.ts'
import { servePages } from './pages/serve-pages.ts'
import { storefrontProjection } from './projection/projection.ts'
import { storefronts } from './resources/storefronts/storefronts.ts'

/**
 * storefronts: a read model. A replayable log of the domain events (a stream
 * on the broker) is projected into sellers' storefronts, answered read-only
 * by `GET /storefronts/:sellerId`, from a page cache the projection's commits
 * invalidate; nothing is read from another service.
 */
export function createApp(env?: BazaarEnv, config: Partial<StorefrontsConfig> = {}): ServiceApp {
  const app: ServiceApp = createServiceApp({
    service: 'storefronts',
    migrations,
    env,
    config: { schema: storefrontsConfigSchema, values: { ...storefrontsConfigFromEnv(), ...config } },
    // the hot path: a page from memory, ahead of the body parser and Feathers' REST layer
    beforeBody: [servePages(() => app.get('storefrontPages'))]
  })
  app.configure(storefrontPages)
  app.configure(storefronts)
  app.configure(storefrontProjection)
  return app
}
