import { Type, type Static } from '@feathersjs/typebox'
import { retryConfigProperties } from '../../shared/feathers/consumer-config.ts'

/** notifications' own settings (besides SMTP_URL, which every service reads from the environment). */
export const notificationsConfigSchema = Type.Object(
  {
    /** MAIL_FROM: the sender of every email */
    mailFrom: Type.String({ minLength: 3, default: 'Bazaar <no-reply@bazaar.local>' }),
    /**
     * DIGEST_CRON: when each seller gets the digest of yesterday's orders, in the seller's own time zone
     * (croner syntax; a sixth, leading field is seconds). Checked at start.
     */
    digestCron: Type.String({ minLength: 1, default: '0 8 * * *' }),
    ...retryConfigProperties
  },
  { $id: 'NotificationsConfig', additionalProperties: false }
)
export type NotificationsConfig = Static<typeof notificationsConfigSchema>
