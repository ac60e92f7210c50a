import { CardProviderClient } from '../../shared/cards/card-provider-client.ts'
import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'
import { subscriptionsConfigSchema, subscriptionsConfigValues, type SubscriptionsConfig } from './config.ts'
import { migrations } from './migrations/index.ts'
import { renewals } from './renewals/renewal.ts'
import { subscriptions } from './resources/subscriptions/subscriptions.ts'

/** Subscriptions: sellers' plans, renewed every PLAN_PERIOD by charging their card, per seller in order. */
export function createApp(env?: BazaarEnv, config: Partial<SubscriptionsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'subscriptions',
    migrations,
    env,
    // each charge waits on the card provider: one job per transaction, 4 at once, so a slow answer holds up no other
    jobs: { batchSize: 1, concurrency: 4 },
    config: { schema: subscriptionsConfigSchema, values: { ...subscriptionsConfigValues(process.env), ...config } }
  })
  const { cardProviderUrl, cardProviderTimeoutMs } = serviceConfig(app, 'subscriptions')
  const provider = new CardProviderClient({ url: cardProviderUrl, timeoutMs: cardProviderTimeoutMs })
  app.configure(subscriptions)
  app.configure((app) => renewals(app, provider))
  return app
}
