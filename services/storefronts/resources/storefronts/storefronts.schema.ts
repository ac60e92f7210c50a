import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { queryValidator } from '../../../../shared/feathers/validation.ts'

/** How many products a storefront lists: the newest first. */
export const STOREFRONT_PRODUCTS = 50

export const storefrontProductSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    /** minor units (cents) */
    price: Type.Integer({ minimum: 0 }),
    currency: Type.String(),
    /** what the seller set (the catalog's `stock`) */
    stock: Type.Integer({ minimum: 0 })
  },
  { $id: 'StorefrontProduct', additionalProperties: false }
)
export type StorefrontProduct = Static<typeof storefrontProductSchema>

/** A seller's storefront, from the storefront projection of user.*, product.* and order.* events. */
export const storefrontSchema = Type.Object(
  {
    sellerId: Type.String(),
    /** the seller's name, null while no user event of theirs is in the log */
    name: Type.Union([Type.String(), Type.Null()]),
    /** all the seller's products */
    productCount: Type.Integer({ minimum: 0 }),
    /** orders with at least one of the seller's products (every order.created for this seller, counted once) */
    orderCount: Type.Integer({ minimum: 0 }),
    products: Type.Array(storefrontProductSchema, { maxItems: STOREFRONT_PRODUCTS, description: 'the 50 newest, newest first' })
  },
  { $id: 'Storefront', additionalProperties: false }
)
export type Storefront = Static<typeof storefrontSchema>

/** A storefront is read by its seller's id alone: no query parameters. */
export const storefrontQuerySchema = Type.Object({}, { $id: 'StorefrontQuery', additionalProperties: false })
export type StorefrontQuery = Static<typeof storefrontQuerySchema>
export const storefrontQueryValidator = getValidator(storefrontQuerySchema, queryValidator)
