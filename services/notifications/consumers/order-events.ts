import { ORDER_CREATED, type EventPayload } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { orderEvents } from '../topology.ts'

/**
 * Keeps each seller's share of each order (order.created is one per seller), for the digest. Idempotent
 * by its key (seller, order): a redelivery writes nothing, so no inbox is needed.
 */
export function orderEventsConsumer(app: ServiceApp): void {
  const orders = () => app.get('db').withSchema(app.get('schema')).table('seller_orders')
  app.get('bus').consumer({
    ...orderEvents,
    handlers: {
      [ORDER_CREATED]: async (message: Envelope<typeof ORDER_CREATED>) => {
        const order: EventPayload<typeof ORDER_CREATED> = message.payload
        await orders()
          .insert({ sellerId: order.sellerId, orderId: order.orderId, items: JSON.stringify(order.items), total: order.total, currency: order.currency, createdAt: order.createdAt })
          .onConflict(['sellerId', 'orderId'])
          .ignore()
      }
    }
  })
}
