import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { catalogConfigSchema, catalogConfigValues, type CatalogConfig } from './config.ts'
import { orderEventsConsumer } from './consumers/order-events.ts'
import { importFlow } from './imports/flow.ts'
import { migrations } from './migrations/index.ts'
import { imports } from './resources/imports/imports.ts'
import { products } from './resources/products/products.ts'
import { referenceData } from '../../shared/kv/reference.ts'
import './declarations.ts'

/** The catalog: sellers' products, the source of product.created and product.updated; counts orders for `available`; bulk imports. */
export function createApp(env?: BazaarEnv, config: Partial<CatalogConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'catalog',
    migrations,
    env,
    config: { schema: catalogConfigSchema, values: { ...catalogConfigValues(process.env), ...config } }
  })
  referenceData(app) // currencies and flags, in memory: a product's currency must be enabled; flag `imports` switches imports
  app.configure(products)
  app.configure(orderEventsConsumer)
  app.configure(importFlow)
  app.configure(imports)
  return app
}
