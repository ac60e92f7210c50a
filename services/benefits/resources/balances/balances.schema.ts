import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { queryValidator } from '../../../../shared/feathers/validation.ts'

/** A user's points. */
export const balanceSchema = Type.Object(
  {
    userId: Type.String({ format: 'uuid' }),
    points: Type.Integer({ minimum: 0 })
  },
  { $id: 'Balance', additionalProperties: false }
)
export type Balance = Static<typeof balanceSchema>

/** A balance is read by its user id alone: no query parameters. */
export const balanceQuerySchema = Type.Object({}, { $id: 'BalanceQuery', additionalProperties: false })
export type BalanceQuery = Static<typeof balanceQuerySchema>
export const balanceQueryValidator = getValidator(balanceQuerySchema, queryValidator)
