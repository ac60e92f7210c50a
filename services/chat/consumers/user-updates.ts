import { USER_UPDATED } from '../../../shared/contracts/index.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { userUpdates } from '../topology.ts'
import { projectName } from '../user-names.ts'

/** Keeps members' names current from user.updated: once per event (inbox), newest change wins (out-of-order safe). */
export function userUpdatesConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const rename = idempotent<typeof USER_UPDATED>(
    { db: app.get('db'), schema, consumer: userUpdates.purpose, logger: app.get('logger') },
    async ({ payload }, trx) => projectName(trx, schema, { userId: payload.userId, name: payload.name, updatedAt: payload.updatedAt })
  )
  app.get('bus').consumer({ ...withConfiguredRetry(userUpdates, app.get('config')), handlers: { [USER_UPDATED]: rename } })
}
