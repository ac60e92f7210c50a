import type { Knex } from 'knex'
import type { Transporter } from 'nodemailer'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { DEFAULT_TIME_ZONE, USER_REGISTERED, USER_SESSIONS_REVOKED, USER_UPDATED, type RoutingKey } from '../../../shared/contracts/index.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { deliverer } from '../delivery.ts'
import { ensureDigestSchedule } from '../digest/schedules.ts'
import { messageIdOf, profileChangedMail, welcomeMail, type Mail } from '../mailer.ts'
import { rememberUser, type KnownUser } from '../projections/users.ts'
import { userEvents } from '../topology.ts'

/**
 * Emails users about what happened to their account: a welcome on
 * `user.registered`, a notice on `user.updated`. Exactly once per event: the
 * inbox row, the notification record and the send share one transaction, so
 * a redelivered event finds its row and sends nothing; a failed send rolls
 * both back and the event is retried. In the same transaction it keeps its
 * own copy of the user (admins are told of escalated claims, sellers get a
 * digest) and, for a seller, the digest schedule of the seller's time zone.
 */
export function userEventsConsumer(app: ServiceApp, mailer: Transporter): void {
  const inbox = { db: app.get('db'), schema: app.get('schema'), consumer: userEvents.purpose, logger: app.get('logger') }
  const deliver = deliverer(app, mailer)

  const send = async (mail: Mail, message: Envelope<RoutingKey>, user: KnownUser, trx: Knex.Transaction) => {
    await rememberUser(trx, app.get('schema'), user)
    if (user.role === 'seller') await ensureDigestSchedule(app, trx, user.timeZone)
    await deliver({ mail, userId: user.id, messageId: messageIdOf(message.id, mail.kind) }, trx)
  }

  app.get('bus').consumer({
    ...withConfiguredRetry(userEvents, app.get('config')),
    handlers: {
      [USER_REGISTERED]: idempotent<typeof USER_REGISTERED>(inbox, (message, trx) =>
        send(welcomeMail(message.payload), message, knownUser(message.payload, message.payload.registeredAt), trx)
      ),
      [USER_UPDATED]: idempotent<typeof USER_UPDATED>(inbox, (message, trx) =>
        send(profileChangedMail(message.payload), message, knownUser(message.payload, message.payload.updatedAt), trx)
      ),
      // Bound by `user.#` but nothing to send (the event names no address): acknowledged rather than dead-lettered.
      [USER_SESSIONS_REVOKED]: async () => {}
    }
  })
}

const knownUser = (user: { userId: string; email: string; name: string; role: KnownUser['role']; timeZone?: string }, at: string): KnownUser => ({
  id: user.userId,
  email: user.email,
  name: user.name,
  role: user.role,
  timeZone: user.timeZone ?? DEFAULT_TIME_ZONE,
  updatedAt: at
})
