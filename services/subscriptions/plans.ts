import type { Plan } from '../../shared/contracts/checkout.ts'

/** What each plan costs a period, in minor units: the one place plan prices live. */
export const planPrices: Record<Plan, { amount: number; currency: string }> = {
  basic: { amount: 900, currency: 'EUR' },
  pro: { amount: 2_900, currency: 'EUR' }
}
