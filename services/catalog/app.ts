import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { migrations } from './migrations/index.ts'
import { products } from './resources/products/products.ts'

/** The catalog: sellers' products, the source of product.created and product.updated. */
export function createApp(env?: BazaarEnv): ServiceApp {
  const app = createServiceApp({ service: 'catalog', migrations, env })
  app.configure(products)
  return app
}
