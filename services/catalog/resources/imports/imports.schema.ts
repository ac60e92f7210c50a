import { Type, type Static } from '@feathersjs/typebox'
import { importStatusSchema } from '../../../../shared/contracts/import.ts'
import { productSchema, skuSchema } from '../products/products.schema.ts'

/** An import as `GET /imports/:id` shows it. */
export const importSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: importStatusSchema,
    total: Type.Integer({ minimum: 0 }),
    done: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    createdAt: Type.String({ format: 'date-time' }),
    completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
  },
  { $id: 'Import', additionalProperties: false }
)
export type Import = Static<typeof importSchema>

/**
 * One CSV row, once price and stock are read as integers: the product's own
 * field rules (the same schema POST /products validates with), plus the sku.
 */
export const importRowSchema = Type.Object(
  {
    sku: skuSchema,
    ...Type.Pick(productSchema, ['title', 'description', 'price', 'currency', 'stock']).properties
  },
  { $id: 'ImportRow', additionalProperties: false }
)
export type ImportRow = Static<typeof importRowSchema>
