import type { NotificationsConfig } from './config.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    notifications: NotificationsConfig
  }
}
