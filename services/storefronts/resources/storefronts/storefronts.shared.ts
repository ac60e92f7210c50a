import type { Storefront, StorefrontService } from './storefronts.class.ts'

export type { Storefront }

/** `GET /storefronts/:sellerId`: a seller's public storefront. */
export const storefrontPath = 'storefronts'

export const storefrontMethods = ['get'] as const satisfies ReadonlyArray<keyof StorefrontService>
