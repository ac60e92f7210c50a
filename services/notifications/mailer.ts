import nodemailer, { type Transporter } from 'nodemailer'
import type { UserRegistered, UserUpdated } from '../../shared/contracts/user.ts'
import type { NotificationKind } from './resources/notifications/notifications.schema.ts'

/** An email as notifications composes it, before it has an id or a sender. */
export interface Mail {
  kind: NotificationKind
  to: string
  subject: string
  text: string
}

/** SMTP through nodemailer, with bounded waits so a stuck server fails the attempt (and it is retried). */
export function createMailer(smtpUrl: string): Transporter {
  return nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000
  })
}

/**
 * The Message-ID of the mail an event causes: the same event always gives the
 * same id, so even a copy sent again after a crash is recognisably the same message.
 */
export function messageIdOf(eventId: string, kind: NotificationKind): string {
  return `<${eventId.replace(/[^A-Za-z0-9.\-_]/g, '-')}.${kind}@notifications.bazaar>`
}

export function welcomeMail(user: UserRegistered): Mail {
  return {
    kind: 'welcome',
    to: user.email,
    subject: `Welcome to Bazaar, ${user.name}`,
    text: `Hello ${user.name},\n\nyour Bazaar ${user.role} account is ready. Happy trading!\n\nThe Bazaar team\n`
  }
}

export function profileChangedMail(user: UserUpdated): Mail {
  return {
    kind: 'profile-changed',
    to: user.email,
    subject: 'Your Bazaar profile was changed',
    text:
      `Hello ${user.name},\n\nthese fields of your profile were changed: ${user.changes.join(', ')}.\n` +
      `If this was not you, please contact support.\n\nThe Bazaar team\n`
  }
}
