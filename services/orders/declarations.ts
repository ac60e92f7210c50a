import type { OrdersConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    orders: OrdersConfig
  }
}
