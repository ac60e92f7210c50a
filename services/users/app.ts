import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp, onStart } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { usersConfigSchema, usersConfigValues } from './config.ts'
import { trustTheGateway } from './login/client-address.ts'
import { LoginThrottle } from './login/throttle.ts'
import { migrations } from './migrations/index.ts'
import { authentication } from './resources/authentication/authentication.ts'
import { users, userService } from './resources/users/users.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'

/**
 * users: accounts, registration, login and logout. The only service that signs
 * tokens; every other one verifies them with the shared `jwtOptions`. `vars` is
 * the process environment its settings (LOGIN_RATE_*) are read from.
 */
export function createApp(env?: BazaarEnv, vars: NodeJS.ProcessEnv = process.env): ServiceApp {
  const app = createServiceApp({ service: 'users', migrations, env, config: { schema: usersConfigSchema, values: usersConfigValues(vars) } })
  trustTheGateway(app)
  const throttle = new LoginThrottle(app.get('db'), app.get('schema'), serviceConfig(app, 'users'))
  app.configure(users(throttle))
  app.configure(authentication(throttle))
  app.configure(warnAboutDefaultSecret)
  app.configure(bootstrapAdmin)
  return app
}

function warnAboutDefaultSecret(app: ServiceApp) {
  if (app.get('env').jwtSecretIsDefault) {
    app.get('logger').warn('JWT_SECRET is not set: tokens are signed with the development secret; set JWT_SECRET in production')
  }
}

/** Opens the admin account of ADMIN_EMAIL / ADMIN_PASSWORD at start, unless it exists. */
function bootstrapAdmin(app: ServiceApp) {
  onStart(app, async () => {
    const { adminEmail, adminPassword } = app.get('env')
    if (!adminEmail || !adminPassword) return
    const email = adminEmail.toLowerCase()
    const accounts = userService(app)
    const existing = await accounts.find({ query: { email, $limit: 1 }, paginate: false })
    if (existing.length > 0) return
    try {
      await accounts.create({ email, password: adminPassword, name: 'Administrator', role: 'admin' })
      app.get('logger').info({ email }, 'admin account created')
    } catch (err) {
      // Another replica created it first.
      if ((err as { code?: number }).code !== 409) throw err
    }
  })
}
