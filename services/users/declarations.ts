import type { UsersConfig } from './config.ts'
import type { authenticationSettings } from './resources/authentication/authentication.class.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    users: UsersConfig
  }
  interface BazaarSettings {
    /** read by @feathersjs/authentication's AuthenticationService (its configKey); set by the users service only */
    authentication?: ReturnType<typeof authenticationSettings>
  }
}
