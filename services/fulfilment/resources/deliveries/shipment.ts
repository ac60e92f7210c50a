import { Conflict, Forbidden, NotFound } from '@feathersjs/errors'
import { DELIVERY_SHIPPED } from '../../../../shared/contracts/index.ts'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { emit } from '../../../../shared/feathers/transaction.ts'
import type { DeliveryRow } from './deliveries.schema.ts'

/**
 * Before `patch`, in its transaction: the delivery exists (404), the caller is its seller (403), and it
 * is not shipped yet (409). The row stays locked until the transaction ends, so two PATCHes at once
 * ship it once: the second waits, then finds it shipped.
 */
export async function checkShipment(context: HookContext) {
  const trx = context.params.transaction!.trx
  const delivery: Pick<DeliveryRow, 'sellerId' | 'status'> | undefined = await trx
    .withSchema(context.app.get('schema'))
    .table('deliveries')
    .where({ id: context.id })
    .forUpdate()
    .first('sellerId', 'status')
  if (!delivery) throw new NotFound(`No delivery ${String(context.id)}`)
  if (delivery.sellerId !== context.params.caller!.id) throw new Forbidden("Only the delivery's seller may ship it")
  if (delivery.status === 'shipped') throw new Conflict('The delivery is already shipped', { status: delivery.status })
}

/** After `patch`, in its transaction: delivery.shipped, published iff the shipping commits. */
export async function emitShipped(context: HookContext) {
  const delivery = context.result as DeliveryRow
  await emit(context, DELIVERY_SHIPPED, {
    deliveryId: delivery.id,
    orderId: delivery.orderId,
    sellerId: delivery.sellerId,
    buyerId: delivery.buyerId,
    shippedAt: isoTimestamp(delivery.shippedAt!)
  })
}
