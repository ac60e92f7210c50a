import type { EventStore } from './history/store.ts'
import type { LiveFeed } from './live/feed.ts'
import type { StreamHub } from './live/hub.ts'
import type { GatewayConfig } from './config.ts'

/** The gateway's moving parts, for its tests and the benchmark. */
export interface GatewayParts {
  config: GatewayConfig
  store: EventStore
  hub: StreamHub
  feed: LiveFeed
}

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    gateway: GatewayConfig
  }
  interface BazaarSettings {
    /** set by the gateway's createApp() only */
    gateway?: GatewayParts
  }
}
