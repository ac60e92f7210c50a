import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { listQuerySchema } from '../../../../shared/feathers/list-query.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'

/** A seller's warehouse receipt appliance, as the API shows it (never its token, except once at creation). */
export const applianceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sellerId: Type.String(),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    createdAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Appliance', additionalProperties: false }
)
export type Appliance = Static<typeof applianceSchema>

export const applianceDataSchema = Type.Pick(applianceSchema, ['name'], { $id: 'ApplianceData', additionalProperties: false })
export type ApplianceData = Static<typeof applianceDataSchema>
export const applianceDataValidator = getValidator(applianceDataSchema, dataValidator)

/** What `GET /appliances` takes: paging and sorting of the seller's own appliances. */
export const applianceQuerySchema = listQuerySchema('ApplianceQuery', ['name', 'createdAt'])
export type ApplianceQuery = Static<typeof applianceQuerySchema>
export const applianceQueryValidator = getValidator(applianceQuerySchema, queryValidator)

/** The answer to `POST /appliances`: the only time the token is shown. */
export type CreatedAppliance = Appliance & { token: string }
