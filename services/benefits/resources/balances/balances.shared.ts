import type { Balance, BalanceService } from './balances.class.ts'

export type { Balance }

/** `GET /balances/:userId`: a user's points. */
export const balancePath = 'balances'

export const balanceMethods = ['get'] as const satisfies ReadonlyArray<keyof BalanceService>
