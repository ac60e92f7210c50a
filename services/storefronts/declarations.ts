import type { StorefrontsConfig } from './config.ts'
import type { ProjectionSupervisor } from './projection/supervisor.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    storefronts: StorefrontsConfig
  }
  interface BazaarSettings {
    /** set by the storefronts' createApp() only: the projectors, for its tests and the benchmark */
    storefrontProjection?: ProjectionSupervisor
  }
}
