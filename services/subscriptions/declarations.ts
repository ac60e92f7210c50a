import type { SubscriptionsConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    subscriptions: SubscriptionsConfig
  }
}
