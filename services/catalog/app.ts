import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { orderEventsConsumer } from './consumers/order-events.ts'
import { migrations } from './migrations/index.ts'
import { products } from './resources/products/products.ts'
import { referenceData } from '../../shared/kv/reference.ts'

/** The catalog: sellers' products, the source of product.created and product.updated; counts orders for `available`. */
export function createApp(env?: BazaarEnv): ServiceApp {
  const app = createServiceApp({ service: 'catalog', migrations, env })
  referenceData(app) // currencies, in memory: a product's must be enabled
  app.configure(products)
  app.configure(orderEventsConsumer)
  return app
}
