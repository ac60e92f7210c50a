import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Transporter } from 'nodemailer'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { USER_REGISTERED, USER_SESSIONS_REVOKED, USER_UPDATED, type RoutingKey } from '../../../shared/contracts/index.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { messageIdOf, profileChangedMail, welcomeMail, type Mail } from '../mailer.ts'
import { notificationService } from '../resources/notifications/notifications.ts'
import { userEvents } from '../topology.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'

/**
 * Emails users about what happened to their account: a welcome on
 * `user.registered`, a notice on `user.updated`. Exactly once per event: the
 * inbox row, the notification record and the send share one transaction, so
 * a redelivered event finds its row and sends nothing; a failed send rolls
 * both back and the event is retried.
 */
export function userEventsConsumer(app: ServiceApp, mailer: Transporter): void {
  const from = serviceConfig(app, 'notifications').mailFrom
  const inbox = { db: app.get('db'), schema: app.get('schema'), consumer: userEvents.purpose, logger: app.get('logger') }

  const send = async (mail: Mail, message: Envelope<RoutingKey>, userId: string, trx: Knex.Transaction) => {
    await notificationService(app)._create(
      { id: randomUUID(), userId, kind: mail.kind, to: mail.to, subject: mail.subject, sentAt: isoTimestamp() },
      { transaction: { starting: false, trx } }
    )
    // Last, so that nothing after the send can roll the record back.
    await mailer.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, messageId: messageIdOf(message.id, mail.kind) })
  }

  app.get('bus').consumer({
    ...withConfiguredRetry(userEvents, app.get('config')),
    handlers: {
      [USER_REGISTERED]: idempotent<typeof USER_REGISTERED>(inbox, (message, trx) =>
        send(welcomeMail(message.payload), message, message.payload.userId, trx)
      ),
      [USER_UPDATED]: idempotent<typeof USER_UPDATED>(inbox, (message, trx) =>
        send(profileChangedMail(message.payload), message, message.payload.userId, trx)
      ),
      // Bound by `user.#` but nothing to send (the event names no address): acknowledged rather than dead-lettered.
      [USER_SESSIONS_REVOKED]: async () => {}
    }
  })
}
