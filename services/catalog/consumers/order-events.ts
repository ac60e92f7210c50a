import type { Knex } from 'knex'
import { ORDER_CREATED } from '../../../shared/contracts/order.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { isUuid } from '../../../shared/feathers/validation.ts'
import { orderEvents } from '../topology.ts'

/**
 * Counts the units ordered of each product (`ordered`) from order.created,
 * exactly once per message (inbox): `available`, stock minus ordered, is what
 * a buyer can still buy. The seller's `stock` is never touched, and no
 * product.updated is emitted: `available` is the catalog's own read of orders
 * (the orders service keeps its own count to refuse orders).
 */
export function orderEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const count = idempotent<typeof ORDER_CREATED>(
    { db: app.get('db'), schema, consumer: orderEvents.purpose, logger: app.get('logger') },
    async (message, trx: Knex.Transaction) => {
      // in product order, so concurrent handlers never deadlock; an id that is not ours names no product
      const lines = message.payload.items.filter((line) => isUuid(line.productId)).sort((a, b) => a.productId.localeCompare(b.productId))
      for (const line of lines) {
        await trx.withSchema(schema).table('products').where({ id: line.productId }).increment('ordered', line.quantity)
      }
    }
  )
  app.get('bus').consumer({ ...orderEvents, handlers: { [ORDER_CREATED]: count } })
}
