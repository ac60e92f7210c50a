import type { SegmentsConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    segments: SegmentsConfig
  }
}
