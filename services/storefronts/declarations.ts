import type { StorefrontsConfig } from './config.ts'
import type { PageCache } from './pages/page-cache.ts'
import type { ProjectionSupervisor } from './projection/supervisor.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    storefronts: StorefrontsConfig
  }
  interface BazaarSettings {
    /** set by the storefronts' createApp() only: the projectors, for its tests and the benchmark */
    storefrontProjection?: ProjectionSupervisor
    /** set by the storefronts' createApp() only: the rendered pages of this instance */
    storefrontPages?: PageCache
  }
}
