import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { dataValidator } from '../../../../shared/feathers/validation.ts'

/** An appliance's acknowledgement that it printed an order: that order is never delivered to it again. */
export const receiptSchema = Type.Object(
  {
    applianceId: Type.String({ format: 'uuid' }),
    orderId: Type.String({ minLength: 1, maxLength: 64 }),
    ackedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Receipt', additionalProperties: false }
)
export type Receipt = Static<typeof receiptSchema>

export const receiptDataSchema = Type.Pick(receiptSchema, ['orderId'], { $id: 'ReceiptData', additionalProperties: false })
export type ReceiptData = Static<typeof receiptDataSchema>
export const receiptDataValidator = getValidator(receiptDataSchema, dataValidator)
