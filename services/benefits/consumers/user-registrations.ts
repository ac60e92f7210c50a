import { USER_REGISTERED } from '../../../shared/contracts/index.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { userRegistrations } from '../topology.ts'

/** Opens a balance with the welcome points for every new account, once (inbox; an existing balance is left as it is). */
export function userRegistrationsConsumer(app: ServiceApp): void {
  const config = app.get('config')
  const schema = app.get('schema')
  const openBalance = idempotent<typeof USER_REGISTERED>(
    { db: app.get('db'), schema, consumer: userRegistrations.purpose, logger: app.get('logger') },
    async (message, trx) => {
      await trx
        .withSchema(schema)
        .table('balances')
        .insert({ userId: message.payload.userId, points: config.welcomePoints })
        .onConflict('userId')
        .ignore()
    }
  )
  app.get('bus').consumer({ ...withConfiguredRetry(userRegistrations, config), handlers: { [USER_REGISTERED]: openBalance } })
}
