import type { PaymentsConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    payments: PaymentsConfig
  }
}
