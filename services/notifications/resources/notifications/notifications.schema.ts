import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'
import { queryValidator } from '../../../../shared/feathers/validation.ts'
import { emailKindSchema, type EmailKind } from '../../../../shared/contracts/tasks.ts'

export const notificationKind = emailKindSchema
export type NotificationKind = EmailKind

/** An email notifications sent, as recorded in the transaction that sent it. */
export const notificationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    kind: notificationKind,
    to: Type.String({ format: 'email' }),
    subject: Type.String(),
    sentAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Notification', additionalProperties: false }
)
export type Notification = Static<typeof notificationSchema>

export const notificationResolver = resolve<Notification, HookContext>({
  sentAt: timestampField
})

export const notificationQuerySchema = querySyntax(Type.Pick(notificationSchema, ['userId', 'kind', 'sentAt']))
export type NotificationQuery = Static<typeof notificationQuerySchema>
export const notificationQueryValidator = getValidator(notificationQuerySchema, queryValidator)
