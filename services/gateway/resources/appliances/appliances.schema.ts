import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { dataValidator } from '../validators.ts'

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

/** The answer to `POST /appliances`: the only time the token is shown. */
export type CreatedAppliance = Appliance & { token: string }
