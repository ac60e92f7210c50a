import { Type, type Static } from '@feathersjs/typebox'

export const MAINTENANCE_SCHEDULED = 'maintenance.scheduled'
export const MAINTENANCE_CANCELLED = 'maintenance.cancelled'

export const maintenanceScheduledSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    message: Type.String({ minLength: 1 }),
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' })
  },
  { $id: 'MaintenanceScheduled', additionalProperties: false }
)
export type MaintenanceScheduled = Static<typeof maintenanceScheduledSchema>

export const maintenanceCancelledSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    cancelledAt: Type.String({ format: 'date-time' })
  },
  { $id: 'MaintenanceCancelled', additionalProperties: false }
)
export type MaintenanceCancelled = Static<typeof maintenanceCancelledSchema>
