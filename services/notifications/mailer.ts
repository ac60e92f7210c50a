import nodemailer, { type Transporter } from 'nodemailer'
import type { SubscriptionEvent } from '../../shared/contracts/checkout.ts'
import type { ClaimEscalated } from '../../shared/contracts/order.ts'
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

/** Told to every admin when no seller answered a claim in time. */
export function claimEscalatedMail(admin: { email: string; name: string }, claim: ClaimEscalated): Mail {
  return {
    kind: 'claim-escalated',
    to: admin.email,
    subject: `Claim ${claim.claimId} needs you: no seller answered`,
    text:
      `Hello ${admin.name},\n\nno seller answered the claim ${claim.claimId} on order ${claim.orderId} in time, so it is yours now.\n\n` +
      `Opened: ${claim.openedAt}\nEscalated: ${claim.escalatedAt}\nBuyer: ${claim.buyerId}\nReason: ${claim.reason}\n\nThe Bazaar team\n`
  }
}

/** Told to a seller whose plan's renewal was declined after every retry. */
export function planPastDueMail(seller: { email: string; name: string }, plan: SubscriptionEvent): Mail {
  return {
    kind: 'plan-past-due',
    to: seller.email,
    subject: `Your Bazaar ${plan.plan} plan is past due`,
    text:
      `Hello ${seller.name},\n\nwe could not charge your card for your ${plan.plan} plan (${plan.reason ?? 'declined'}), so it is past due.\n` +
      `Paid until: ${plan.currentPeriodEnd}\nSubscription: ${plan.subscriptionId}\n\nPlease subscribe again with another card.\n\nThe Bazaar team\n`
  }
}

/** One line of a digest: an order of the seller's, with the seller's part of it. */
export interface DigestOrder {
  orderId: string
  total: number
  currency: string
  createdAt: Date
}

/** The seller's digest of one local day's orders: each order, then the total (one per currency). */
export function digestMail(seller: { email: string; name: string }, localDate: string, timeZone: string, orders: DigestOrder[]): Mail {
  const totals = new Map<string, number>()
  for (const order of orders) totals.set(order.currency, (totals.get(order.currency) ?? 0) + order.total)
  const lines = orders.map((order) => `- ${order.orderId} at ${localTime(order.createdAt, timeZone)}: ${money(order.total, order.currency)}`)
  const total = [...totals].map(([currency, amount]) => money(amount, currency)).join(' + ')
  return {
    kind: 'seller-digest',
    to: seller.email,
    subject: `Your Bazaar orders of ${localDate}: ${orders.length}, ${total}`,
    text: `Hello ${seller.name},\n\nyour orders of ${localDate} (${timeZone}):\n${lines.join('\n')}\n\nTotal: ${total}\n\nThe Bazaar team\n`
  }
}

/** The Message-ID of a seller's digest of one local day: the same however often it is composed. */
export const digestMessageId = (sellerId: string, localDate: string) => `<digest.${sellerId.replace(/[^A-Za-z0-9.\-_]/g, '-')}.${localDate}@notifications.bazaar>`

/** Amounts are in minor units (cents). */
const money = (amount: number, currency: string) => `${(amount / 100).toFixed(2)} ${currency}`

const localTime = (at: Date, timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(at)
