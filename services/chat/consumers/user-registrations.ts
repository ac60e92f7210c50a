import { USER_REGISTERED } from '../../../shared/contracts/index.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { userRegistrations } from '../topology.ts'
import { projectName } from '../user-names.ts'

/**
 * Records every new user in chat's projection: from then on they may be
 * added to rooms. Their name as registered, dated by the registration, so any
 * later user.updated wins, whichever arrives first (once per event: inbox).
 */
export function userRegistrationsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const register = idempotent<typeof USER_REGISTERED>(
    { db: app.get('db'), schema, consumer: userRegistrations.purpose, logger: app.get('logger') },
    async ({ payload }, trx) => projectName(trx, schema, { userId: payload.userId, name: payload.name, updatedAt: payload.registeredAt })
  )
  app.get('bus').consumer({ ...withConfiguredRetry(userRegistrations, app.get('config')), handlers: { [USER_REGISTERED]: register } })
}
