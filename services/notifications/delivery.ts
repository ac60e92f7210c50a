import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Transporter } from 'nodemailer'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../shared/feathers/timestamps.ts'
import type { Mail } from './mailer.ts'
import { notificationService } from './resources/notifications/notifications.ts'

/** One email to send: what was composed, to whom it is recorded, and its fixed Message-ID. */
export interface Delivery {
  mail: Mail
  userId: string
  messageId: string
}

/**
 * Records the notification in the handler's transaction, then sends the mail. Last, so that nothing
 * after the send can roll the record back; a failed send rolls the record (and the inbox row) back
 * and the message is retried.
 */
export function deliverer(app: ServiceApp, mailer: Transporter) {
  const from = serviceConfig(app, 'notifications').mailFrom
  return async ({ mail, userId, messageId }: Delivery, trx: Knex.Transaction) => {
    await notificationService(app)._create(
      { id: randomUUID(), userId, kind: mail.kind, to: mail.to, subject: mail.subject, sentAt: isoTimestamp() },
      { transaction: { starting: false, trx } }
    )
    await mailer.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, messageId })
  }
}
