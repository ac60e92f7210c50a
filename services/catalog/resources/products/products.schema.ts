import { randomUUID } from 'node:crypto'
import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'
import type { ProductEvent } from '../../../../shared/contracts/product.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'

/** The largest price or stock PostgreSQL's integer column holds. */
const MAX_INT = 2_147_483_647

/** A seller's stock-keeping unit: no surrounding blanks (the same code with a trailing space would be another product). */
export const skuSchema = Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$' })

/**
 * A product as the API shows it. Prices are integers in minor units (cents).
 * `stock` is what the seller set; `available` is what a buyer can still buy:
 * stock minus the units ordered (counted from order.created, so it follows
 * orders within moments), never below 0.
 */
export const productSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sellerId: Type.String({ format: 'uuid' }),
    parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    /** the seller's own stock-keeping unit, unique among their products (bulk imports upsert by it) */
    sku: Type.Optional(Type.Union([skuSchema, Type.Null()])),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ maxLength: 10_000 }),
    price: Type.Integer({ minimum: 0, maximum: MAX_INT }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' }),
    stock: Type.Integer({ minimum: 0, maximum: MAX_INT }),
    available: Type.Integer({ minimum: 0, maximum: MAX_INT, description: 'stock minus units ordered: what a buyer can still buy' }),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Product', additionalProperties: false }
)
export type Product = Static<typeof productSchema>

/** The fields a parent shares with its children: patching them on the parent patches every child. */
export const sharedFields = ['title', 'description', 'price', 'currency'] as const

/** Rows come from PostgreSQL with Date objects; the API speaks ISO strings. */
export const productResolver = resolve<Product, HookContext>({
  createdAt: timestampField,
  updatedAt: timestampField
})

/** The count behind `available` stays inside. */
export const productExternalResolver = resolve<Product & { ordered?: number }, HookContext>({
  ordered: async () => undefined
})

/** Creating: what a seller sends. Owner, version and dates are the server's. */
export const productDataSchema = Type.Object(
  {
    ...Type.Pick(productSchema, ['title', 'description', 'price', 'currency', 'stock']).properties,
    parentId: Type.Optional(productSchema.properties.parentId),
    sku: productSchema.properties.sku
  },
  { $id: 'ProductData', additionalProperties: false }
)
export type ProductData = Static<typeof productDataSchema>
export const productDataValidator = getValidator(productDataSchema, dataValidator)
export const productDataResolver = resolve<Product, HookContext>({
  id: async () => randomUUID(),
  sellerId: async (_value, _product, context) => context.params.caller!.id,
  parentId: async (value) => value ?? null,
  version: async () => 1,
  createdAt: async () => isoTimestamp(),
  updatedAt: async () => isoTimestamp()
})

/** Patching: any of the seller's fields, at least one; the parent is fixed at creation. */
export const productPatchSchema = Type.Partial(
  Type.Pick(productSchema, ['title', 'description', 'price', 'currency', 'stock']),
  { $id: 'ProductPatch', additionalProperties: false, minProperties: 1 }
)
export type ProductPatch = Static<typeof productPatchSchema>
export const productPatchValidator = getValidator(productPatchSchema, dataValidator)
export const productPatchResolver = resolve<Product, HookContext>({
  // the version is the class's: one more than the row's
  updatedAt: async () => isoTimestamp()
})

/**
 * Listing, for a storefront: by seller or parent (a product's variants),
 * title (`title[$ilike]=%lamp%`: case-insensitive, `%` any text), price range
 * (`price[$gte]`, `price[$lte]`), currency, in stock (`available[$gt]=0`);
 * `$sort` on any of these (price, createdAt, title...). Plain Feathers query syntax.
 */
export const productQueryProperties = Type.Pick(productSchema, ['sellerId', 'parentId', 'title', 'currency', 'createdAt', 'price', 'available'])
export const productQuerySchema = querySyntax(productQueryProperties, {
  title: { $ilike: Type.String({ maxLength: 200 }) }
})
export type ProductQuery = Static<typeof productQuerySchema>
export const productQueryValidator = getValidator(productQuerySchema, queryValidator)

/** A product row as the payload of product.created / product.updated. */
export function toProductEvent(row: Product): ProductEvent {
  return {
    productId: row.id,
    sellerId: row.sellerId,
    parentId: row.parentId ?? null,
    title: row.title,
    description: row.description,
    price: row.price,
    currency: row.currency,
    stock: row.stock,
    version: row.version,
    updatedAt: isoTimestamp(row.updatedAt),
    createdAt: isoTimestamp(row.createdAt)
  }
}
