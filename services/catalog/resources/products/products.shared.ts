import type { Product, ProductData, ProductPatch, ProductQuery } from './products.schema.ts'

export type { Product, ProductData, ProductPatch, ProductQuery }

/** The public path and the methods it answers (no update, no remove: a product is patched). */
export const productPath = 'products'
export const productMethods = ['find', 'get', 'create', 'patch'] as const
