import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { chatConfigSchema, type ChatConfig } from './config.ts'
import { userRegistrationsConsumer } from './consumers/user-registrations.ts'
import { userUpdatesConsumer } from './consumers/user-updates.ts'
import { migrations } from './migrations/index.ts'
import { chatrooms } from './resources/chatrooms/chatrooms.ts'

/** chat: chatrooms and their members, whose names chat keeps current from user.registered and user.updated (it never calls users). */
export function createApp(env?: BazaarEnv, config: Partial<ChatConfig> = {}): ServiceApp {
  const app = createServiceApp({ service: 'chat', migrations, env, config: { schema: chatConfigSchema, values: { ...config } } })
  app.configure(chatrooms)
  app.configure(userUpdatesConsumer)
  app.configure(userRegistrationsConsumer)
  return app
}
