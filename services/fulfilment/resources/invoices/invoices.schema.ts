import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import { invoiceIssuedSchema } from '../../../../shared/contracts/checkout.ts'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { timestampField } from '../../../../shared/feathers/timestamps.ts'
import { queryValidator } from '../../../../shared/feathers/validation.ts'
import type { PartyRow } from '../parties.ts'

/**
 * One seller's invoice for their share of a paid order: the invoice.issued contract's fields, with its
 * own id. `number` counts 1, 2, 3, ... per seller with no gap and no repeat.
 */
export const invoiceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    ...Type.Pick(invoiceIssuedSchema, ['orderId', 'sellerId', 'number', 'lines', 'total', 'currency', 'issuedAt']).properties
  },
  { $id: 'Invoice', additionalProperties: false }
)
export type Invoice = Static<typeof invoiceSchema>

/** As stored: with the order's buyer, who may read it. */
export type InvoiceRow = Invoice & PartyRow

export const invoiceResolver = resolve<InvoiceRow, HookContext>({
  total: async (value) => Number(value), // bigint column: PostgreSQL sends it as text
  issuedAt: timestampField
})

/** Who bought is internal: the buyer knows, the seller is not shown it here. */
export const invoiceExternalResolver = resolve<InvoiceRow, HookContext>({
  buyerId: async () => undefined
})

export const invoiceQueryProperties = Type.Pick(invoiceSchema, ['orderId', 'sellerId', 'number', 'total', 'currency', 'issuedAt'])
export const invoiceQuerySchema = querySyntax(invoiceQueryProperties)
export type InvoiceQuery = Static<typeof invoiceQuerySchema>
export const invoiceQueryValidator = getValidator(invoiceQuerySchema, queryValidator)
