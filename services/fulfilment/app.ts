import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { orderEventsConsumer } from './consumers/order-events.ts'
import { migrations } from './migrations/index.ts'
import { deliveries } from './resources/deliveries/deliveries.ts'
import { invoices } from './resources/invoices/invoices.ts'

/** Fulfilment: each seller's delivery and invoice of every paid order (order.paid), and the seller's shipping of it. */
export function createApp(env?: BazaarEnv): ServiceApp {
  const app = createServiceApp({ service: 'fulfilment', migrations, env })
  app.configure(deliveries)
  app.configure(invoices)
  app.configure(orderEventsConsumer)
  return app
}
