import type { ReferenceConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    reference: ReferenceConfig
  }
}
