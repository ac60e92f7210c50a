import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { notificationsConfigSchema, type NotificationsConfig } from './config.ts'
import { userEventsConsumer } from './consumers/user-events.ts'
import { createMailer } from './mailer.ts'
import { migrations } from './migrations/index.ts'
import { notifications } from './resources/notifications/notifications.ts'

/**
 * notifications: emails users about their account (welcome, profile changes)
 * over SMTP, once per event, and lists what it sent.
 */
export function createApp(env?: BazaarEnv, config: Partial<NotificationsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'notifications',
    migrations,
    env,
    config: { schema: notificationsConfigSchema, values: { mailFrom: process.env.MAIL_FROM, ...config } }
  })
  // One SMTP connection per message (no pool): nothing to close at shutdown.
  const mailer = createMailer(app.get('env').smtpUrl)
  app.configure(notifications)
  app.configure((app) => userEventsConsumer(app, mailer))
  return app
}
