import type { BusLane } from '../../shared/bus/lane.ts'
import type { ReferenceConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    reference: ReferenceConfig
  }
  interface BazaarSettings {
    /** set by the reference service's createApp() only: the pipelined lane its writes run on (lane.ts) */
    referenceLane?: BusLane
  }
}
