import { Forbidden } from '@feathersjs/errors'
import type { HookContext } from '../../../shared/feathers/declarations.ts'

/**
 * Who may read a delivery or an invoice: the buyer of its order, its seller, or an admin. Each row
 * carries both parties (`buyerId` as order.paid told it), so the rule needs no other service.
 */
export interface PartyRow {
  buyerId: string
  sellerId: string
}

/**
 * Before find: a list holds only what the caller may read (buyers: their orders'; sellers: their own;
 * admins: all), whatever the query asks: the caller's party is added as a condition of its own, so a
 * filter can narrow the list but never widen it (another seller's `sellerId` lists nothing). Newest
 * first unless asked otherwise, the id breaking ties so pages never overlap.
 */
export function scopeToParties(newestFirstBy: string) {
  return async (context: HookContext) => {
    const query = { $sort: { [newestFirstBy]: -1, id: 1 }, ...context.params.query }
    const caller = context.params.caller
    if (context.params.provider && caller && caller.role !== 'admin') {
      const party = caller.role === 'buyer' ? { buyerId: caller.id } : { sellerId: caller.id }
      query.$and = [...(query.$and ?? []), party]
    }
    context.params.query = query
  }
}

/** After get: the buyer of the order, its seller, or an admin; 403 for anyone else. */
export async function refuseNonParties(context: HookContext) {
  const caller = context.params.caller
  if (!context.params.provider || !caller || caller.role === 'admin') return
  const row = context.result as PartyRow
  if (caller.role === 'buyer' && row.buyerId === caller.id) return
  if (caller.role === 'seller' && row.sellerId === caller.id) return
  throw new Forbidden(`This ${context.path === 'invoices' ? 'invoice' : 'delivery'} is not yours to read`)
}
