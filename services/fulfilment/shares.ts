import { PoisonMessageError } from '../../shared/bus/errors.ts'
import type { OrderPaid, SellerShare } from '../../shared/contracts/checkout.ts'

/**
 * The seller shares of a paid order, checked beyond what its contract can say, in sellerId order (the
 * order their invoice counters are locked in). A share that names its seller twice, carries another
 * seller's lines or does not add up to its total could only produce a wrong delivery or invoice:
 * the message is dead-lettered at once with the reason, never retried.
 */
export function checkedShares(order: OrderPaid): SellerShare[] {
  const seen = new Set<string>()
  for (const share of order.sellers) {
    if (seen.has(share.sellerId)) throw new PoisonMessageError(`order ${order.orderId}: seller ${share.sellerId} has two shares`)
    seen.add(share.sellerId)
    const foreign = share.items.find((line) => line.sellerId !== share.sellerId)
    if (foreign) throw new PoisonMessageError(`order ${order.orderId}: seller ${share.sellerId}'s share holds a line of seller ${foreign.sellerId}`)
    const sum = share.items.reduce((total, line) => total + line.unitPrice * line.quantity, 0)
    if (sum !== share.total) throw new PoisonMessageError(`order ${order.orderId}: seller ${share.sellerId}'s lines add up to ${sum}, not ${share.total}`)
  }
  return [...order.sellers].sort((a, b) => (a.sellerId < b.sellerId ? -1 : a.sellerId > b.sellerId ? 1 : 0))
}
