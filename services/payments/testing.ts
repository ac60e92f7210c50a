import { randomUUID } from 'node:crypto'
import type { Bus } from '../../shared/bus/bus.ts'
import { ORDER_CANCELLED, ORDER_PAID } from '../../shared/contracts/checkout.ts'
import { ORDER_PLACED, type OrderLine } from '../../shared/contracts/order.ts'
import type { TestIdentity } from '../../shared/testing/tokens.ts'

/** For tests: what the orders service says about an order, published as orders would (a Bus with service 'orders'). */
export interface TestOrder {
  orderId: string
  buyerId: string
  items: OrderLine[]
  total: number
  currency: string
}

export async function publishPlaced(orders: Bus, buyer: TestIdentity, total = 2_500): Promise<TestOrder> {
  const order: TestOrder = {
    orderId: randomUUID(),
    buyerId: buyer.id,
    items: [{ productId: randomUUID(), sellerId: randomUUID(), title: 'Teapot', unitPrice: total, quantity: 1 }],
    total,
    currency: 'EUR'
  }
  await orders.publisher.publish(ORDER_PLACED, { ...order, createdAt: new Date().toISOString() })
  return order
}

export async function publishCancelled(orders: Bus, order: TestOrder): Promise<void> {
  await orders.publisher.publish(ORDER_CANCELLED, { ...order, reason: 'payment_timeout', cancelledAt: new Date().toISOString() })
}

export async function publishPaid(orders: Bus, order: TestOrder, paymentId: string): Promise<void> {
  const { items, ...rest } = order
  await orders.publisher.publish(ORDER_PAID, {
    ...rest,
    paymentId,
    shipTo: null,
    sellers: [{ sellerId: items[0]!.sellerId, items, total: order.total }],
    paidAt: new Date().toISOString()
  })
}
