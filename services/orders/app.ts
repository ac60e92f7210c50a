import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { ordersConfigSchema, ordersConfigValues, type OrdersConfig } from './config.ts'
import { productEventsConsumer } from './consumers/product-events.ts'
import { claimDeadlines } from './jobs/claim-deadline.ts'
import { paymentDeadlines } from './jobs/payment-deadline.ts'
import { checkoutEventsConsumer } from './consumers/checkout-events.ts'
import { migrations } from './migrations/index.ts'
import { claims } from './resources/claims/claims.ts'
import { orders } from './resources/orders/orders.ts'
import { referenceData } from '../../shared/kv/reference.ts'

/** Orders: buyers' orders and claims, priced and reserved from its own projection of the catalog; the checkout's process manager. */
export function createApp(env?: BazaarEnv, config: Partial<OrdersConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'orders',
    migrations,
    env,
    // One job per transaction: a payment deadline locks its order, then its products in product order, as every
    // other checkout step does. A batch of deadlines in one transaction would lock several orders' products out
    // of that order and deadlock with the orders being placed (seen under the chaos run's load).
    jobs: { batchSize: 1, concurrency: 4 },
    config: { schema: ordersConfigSchema, values: { ...ordersConfigValues(process.env), ...config } }
  })
  referenceData(app) // countries and flags, in memory: shipTo.country must be enabled, flag claims switches claims
  app.configure(orders)
  app.configure(claims)
  app.configure(claimDeadlines)
  app.configure(productEventsConsumer)
  app.configure(paymentDeadlines) // the checkout's process manager: unpaid orders cancelled on time,
  app.configure(checkoutEventsConsumer) // captures, failures and shipments turned into the order's next step
  return app
}
