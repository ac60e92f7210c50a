import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { listQuerySchema } from '../../../../shared/feathers/list-query.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'

/** A maintenance notice: what every client is told, and when. Same shape as `maintenance.scheduled`. */
export const maintenanceNoticeSchema = Type.Object(
  {
    id: Type.String(),
    message: Type.String({ minLength: 1, maxLength: 2_000 }),
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' })
  },
  { $id: 'MaintenanceNotice', additionalProperties: false }
)
export type MaintenanceNotice = Static<typeof maintenanceNoticeSchema>

export const maintenanceNoticeDataSchema = Type.Pick(maintenanceNoticeSchema, ['message', 'startsAt', 'endsAt'], {
  $id: 'MaintenanceNoticeData',
  additionalProperties: false
})
export type MaintenanceNoticeData = Static<typeof maintenanceNoticeDataSchema>
export const maintenanceNoticeDataValidator = getValidator(maintenanceNoticeDataSchema, dataValidator)

/** What `GET /maintenance-notices` takes: paging and sorting by time; the list is the notices in force, nothing to filter. */
export const maintenanceNoticeQuerySchema = listQuerySchema('MaintenanceNoticeQuery', ['startsAt', 'endsAt'])
export type MaintenanceNoticeQuery = Static<typeof maintenanceNoticeQuerySchema>
export const maintenanceNoticeQueryValidator = getValidator(maintenanceNoticeQuerySchema, queryValidator)
