import type { Claim, ClaimData, ClaimPatch } from './claims.schema.ts'

export type { Claim, ClaimData, ClaimPatch }

/** Buyers open claims; a seller of the order answers one, its buyer closes it (PATCH). */
export const claimPath = 'claims'
export const claimMethods = ['create', 'patch'] as const
