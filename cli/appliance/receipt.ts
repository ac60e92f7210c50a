import type { OrderCreated } from '../../shared/contracts/index.ts'

const width = 44

function money(minor: number, currency: string): string {
  return `${(minor / 100).toFixed(2)} ${currency}`
}

function columns(left: string, right: string): string {
  const room = Math.max(1, width - right.length - 1)
  const cut = left.length > room ? left.slice(0, room - 1) + '…' : left
  return cut.padEnd(room) + ' ' + right
}

/** An order as the plain-text receipt a warehouse printer prints. */
export function formatReceipt(order: OrderCreated): string {
  const rule = (c: string) => c.repeat(width)
  const lines = [
    rule('='),
    'BAZAAR ORDER RECEIPT',
    `Order:  ${order.orderId}`,
    `Placed: ${order.createdAt}`,
    `Seller: ${order.sellerId}`,
    `Buyer:  ${order.buyerId}`,
    rule('-'),
    ...order.items.map((item) => columns(`${item.quantity} x ${item.title}`, money(item.unitPrice * item.quantity, order.currency))),
    rule('-'),
    columns('TOTAL', money(order.total, order.currency)),
    rule('='),
    ''
  ]
  return lines.join('\n')
}
