import type { Knex } from 'knex'
import { ORDER_CREATED } from '../../../shared/contracts/order.ts'
import { ORDER_CANCELLED } from '../../../shared/contracts/checkout.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { isUuid } from '../../../shared/feathers/validation.ts'
import { orderEvents } from '../topology.ts'

/**
 * Counts the units ordered of each product (`ordered`) from order.created,
 * and gives back those of a cancelled order (order.cancelled), each exactly
 * once per message (inbox): `available`, stock minus ordered, is what
 * a buyer can still buy. The seller's `stock` is never touched, and no
 * product.updated is emitted: `available` is the catalog's own read of orders
 * (the orders service keeps its own count to refuse orders).
 */
export function orderEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const inbox = { db: app.get('db'), schema, consumer: orderEvents.purpose, logger: app.get('logger') }
  // in product order, so concurrent handlers never deadlock; an id that is not ours names no product
  const ours = (lines: Array<{ productId: string; quantity: number }>) => lines.filter((line) => isUuid(line.productId)).sort((a, b) => a.productId.localeCompare(b.productId))
  const count = idempotent<typeof ORDER_CREATED>(inbox, async (message, trx: Knex.Transaction) => {
    for (const line of ours(message.payload.items)) {
      await trx.withSchema(schema).table('products').where({ id: line.productId }).increment('ordered', line.quantity)
    }
  })
  const release = idempotent<typeof ORDER_CANCELLED>(inbox, async (message, trx: Knex.Transaction) => {
    for (const line of ours(message.payload.items)) {
      await trx.withSchema(schema).table('products').where({ id: line.productId }).update({ ordered: trx.raw('greatest(ordered - ?, 0)', [line.quantity]) })
    }
  })
  app.get('bus').consumer({ ...orderEvents, handlers: { [ORDER_CREATED]: count, [ORDER_CANCELLED]: release } })
}
