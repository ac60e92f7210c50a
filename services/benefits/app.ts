import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { benefitsConfigSchema, type BenefitsConfig } from './config.ts'
import { userRegistrationsConsumer } from './consumers/user-registrations.ts'
import { migrations } from './migrations/index.ts'
import { balances } from './resources/balances/balances.ts'

/** benefits: points balances, opened with welcome points when a user registers. */
export function createApp(env?: BazaarEnv, config: Partial<BenefitsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'benefits',
    migrations,
    env,
    config: { schema: benefitsConfigSchema, values: { welcomePoints: process.env.WELCOME_POINTS, ...config } }
  })
  app.configure(balances)
  app.configure(userRegistrationsConsumer)
  return app
}
