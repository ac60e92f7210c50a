import { Type, type Static } from '@feathersjs/typebox'

export const PRODUCT_CREATED = 'product.created'
export const PRODUCT_UPDATED = 'product.updated'

/** The whole product as it is after the change: consumers keep projections of it. */
export const productEventSchema = Type.Object(
  {
    productId: Type.String({ minLength: 1 }),
    sellerId: Type.String({ minLength: 1 }),
    parentId: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    description: Type.String(),
    price: Type.Integer({ minimum: 0 }),
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    stock: Type.Integer({ minimum: 0 }),
    /** increases with every change, so projections can ignore stale events */
    version: Type.Integer({ minimum: 1 }),
    updatedAt: Type.String({ format: 'date-time' }),
    /** when the product was created (optional: producers before it was added left it out); storefronts list the newest */
    createdAt: Type.Optional(Type.String({ format: 'date-time' }))
  },
  { $id: 'ProductEvent', additionalProperties: false }
)
export type ProductEvent = Static<typeof productEventSchema>
