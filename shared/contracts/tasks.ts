import { Type, type Static } from '@feathersjs/typebox'

/** What kinds of email notifications sends (its `GET /notifications` lists them by kind). */
export const emailKindSchema = Type.Union([
  Type.Literal('welcome'),
  Type.Literal('profile-changed'),
  Type.Literal('claim-escalated'),
  Type.Literal('seller-digest'),
  Type.Literal('import-completed'),
  Type.Literal('plan-past-due')
])
export type EmailKind = Static<typeof emailKindSchema>

export const TASK_NOTIFICATIONS_SEND_EMAIL = 'task.notifications.send-email'

/**
 * Send one email (notifications' task queue, shared/bus/tasks.ts): off the event or job that caused it,
 * with retries and a dead-letter queue. `messageId` is fixed by the cause (an escalation and an admin,
 * a seller and a local date), so even a copy sent again is recognisably the same message.
 */
export const sendEmailTaskSchema = Type.Object(
  {
    userId: Type.String({ minLength: 1 }),
    kind: emailKindSchema,
    to: Type.String({ format: 'email' }),
    subject: Type.String({ minLength: 1, maxLength: 255 }),
    text: Type.String({ minLength: 1 }),
    /** `<...@...>`, as the mail's Message-ID header carries it */
    messageId: Type.String({ minLength: 3, maxLength: 255 })
  },
  { $id: 'SendEmailTask', additionalProperties: false }
)
export type SendEmailTask = Static<typeof sendEmailTaskSchema>
