import type { Claim, ClaimData } from './claims.schema.ts'

export type { Claim, ClaimData }

/** Claims are opened; handling them is a later issue's work. */
export const claimPath = 'claims'
export const claimMethods = ['create'] as const
