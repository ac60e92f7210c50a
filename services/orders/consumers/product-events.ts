import type { Knex } from 'knex'
import { PRODUCT_CREATED, PRODUCT_UPDATED } from '../../../shared/contracts/product.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { productEvents } from '../topology.ts'

type ProductMessage = Envelope<typeof PRODUCT_CREATED | typeof PRODUCT_UPDATED>

/**
 * Projects product.created and product.updated into orders' own `products`
 * table. Exactly once per message (inbox), and only forwards in time: an
 * event older than the projected version changes nothing. Units sold here
 * (`sold`) are orders' own and survive every update.
 */
export function productEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const project = idempotent<typeof PRODUCT_CREATED | typeof PRODUCT_UPDATED>(
    { db: app.get('db'), schema, consumer: productEvents.purpose, logger: app.get('logger') },
    async (message: ProductMessage, trx: Knex.Transaction) => {
      const p = message.payload
      const row = {
        productId: p.productId,
        sellerId: p.sellerId,
        parentId: p.parentId,
        title: p.title,
        description: p.description,
        price: p.price,
        currency: p.currency,
        stock: p.stock,
        version: p.version,
        updatedAt: p.updatedAt
      }
      const { productId: _key, ...replaced } = row
      await trx
        .withSchema(schema)
        .table('products')
        .insert(row)
        .onConflict('productId')
        .merge(Object.keys(replaced))
        .where('products.version', '<', p.version)
    }
  )
  app.get('bus').consumer({ ...productEvents, handlers: { [PRODUCT_CREATED]: project, [PRODUCT_UPDATED]: project } })
}
