import type { BazaarEnv } from '../../shared/config/env.ts'
import { CardProviderClient } from '../../shared/cards/card-provider-client.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'
import { paymentsConfigSchema, paymentsConfigValues, type PaymentsConfig } from './config.ts'
import { orderEventsConsumer } from './consumers/order-events.ts'
import { chargeJobs } from './jobs/charge.ts'
import { refundJobs } from './jobs/refund.ts'
import { migrations } from './migrations/index.ts'
import { payments } from './resources/payments/payments.ts'

/** Payments: charges orders' cards through the card provider, exactly once, from its own projection of orders. */
export function createApp(env?: BazaarEnv, config: Partial<PaymentsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'payments',
    migrations,
    env,
    // each charge waits on the card provider: one job per transaction, 8 at once, so a slow answer holds up no other
    jobs: { batchSize: 1, concurrency: 8 },
    config: { schema: paymentsConfigSchema, values: { ...paymentsConfigValues(process.env), ...config } }
  })
  const settings = serviceConfig(app, 'payments')
  const provider = new CardProviderClient({ url: settings.cardProviderUrl, timeoutMs: settings.cardProviderTimeoutMs, retries: settings.cardProviderRetries })
  app.configure(payments)
  app.configure((a: ServiceApp) => chargeJobs(a, provider))
  app.configure((a: ServiceApp) => refundJobs(a, provider))
  app.configure(orderEventsConsumer)
  return app
}
