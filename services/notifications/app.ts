import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { notificationsConfigSchema, type NotificationsConfig } from './config.ts'
import { claimEventsConsumer } from './consumers/claim-events.ts'
import { orderEventsConsumer } from './consumers/order-events.ts'
import { sendEmailConsumer } from './consumers/send-email.ts'
import { subscriptionEventsConsumer } from './consumers/subscription-events.ts'
import { userEventsConsumer } from './consumers/user-events.ts'
import { sellerDigests } from './digest/job.ts'
import { digestSchedules } from './digest/schedules.ts'
import { createMailer } from './mailer.ts'
import { migrations } from './migrations/index.ts'
import { notifications } from './resources/notifications/notifications.ts'

/**
 * notifications: emails users about their account (welcome, profile changes)
 * over SMTP, once per event; tells every admin of an escalated claim; sends
 * each seller a daily digest of yesterday's orders in the seller's time zone
 * and an email when their plan goes past due;
 * and lists what it sent.
 */
export function createApp(env?: BazaarEnv, config: Partial<NotificationsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'notifications',
    migrations,
    env,
    config: { schema: notificationsConfigSchema, values: { mailFrom: process.env.MAIL_FROM, digestCron: process.env.DIGEST_CRON, ...config } }
  })
  // One SMTP connection per message (no pool): nothing to close at shutdown.
  const mailer = createMailer(app.get('env').smtpUrl)
  app.configure(notifications)
  app.configure((app) => userEventsConsumer(app, mailer))
  app.configure(orderEventsConsumer)
  app.configure(claimEventsConsumer)
  app.configure(subscriptionEventsConsumer)
  app.configure((app) => sendEmailConsumer(app, mailer))
  app.configure(sellerDigests)
  app.configure(digestSchedules)
  return app
}
