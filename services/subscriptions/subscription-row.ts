import type { Plan, SubscriptionEvent, SubscriptionStatus } from '../../shared/contracts/checkout.ts'
import { isoTimestamp } from '../../shared/feathers/timestamps.ts'

/** A subscription as stored (`subscriptions` table). */
export interface SubscriptionRow {
  id: string
  sellerId: string
  plan: Plan
  status: SubscriptionStatus
  period: number
  amount: number
  currency: string
  /** bigint column: PostgreSQL sends it as text */
  periodMs: number | string
  currentPeriodEnd: Date | string
  cancelAtPeriodEnd: boolean
  cardToken: string
  reason: string | null
  createdAt: Date | string
  cancelledAt: Date | string | null
}

export const subscriptionsTable = 'subscriptions'
export const chargesTable = 'charges'

/** When period `n` (1, 2, ...) ends: counted from the start, so a late or retried renewal never shifts the dates. */
export function periodEnd(row: Pick<SubscriptionRow, 'createdAt' | 'periodMs'>, n: number): Date {
  return new Date(new Date(row.createdAt).getTime() + Math.max(n, 1) * Number(row.periodMs))
}

/** The subscription.* payload for the row as it now is. */
export function subscriptionEvent(row: SubscriptionRow, at: string, reason?: string): SubscriptionEvent {
  return {
    subscriptionId: row.id,
    sellerId: row.sellerId,
    plan: row.plan,
    status: row.status,
    period: row.period,
    currentPeriodEnd: isoTimestamp(row.currentPeriodEnd),
    ...(reason ? { reason } : {}),
    at
  }
}
