import { Type, type Static } from '@feathersjs/typebox'
import { retryConfigProperties } from '../../shared/feathers/consumer-config.ts'

/** notifications' own settings (besides SMTP_URL, which every service reads from the environment). */
export const notificationsConfigSchema = Type.Object(
  {
    /** MAIL_FROM: the sender of every email */
    mailFrom: Type.String({ minLength: 3, default: 'Bazaar <no-reply@bazaar.local>' }),
    ...retryConfigProperties
  },
  { $id: 'NotificationsConfig', additionalProperties: false }
)
export type NotificationsConfig = Static<typeof notificationsConfigSchema>
