import { USER_REGISTERED } from '../../../shared/contracts/index.ts'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { segmentFor } from '../rules.ts'
import { userRegistrations } from '../topology.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'

/** Assigns every new account its segment by the configured rules, once (a user keeps the segment first assigned). */
export function userRegistrationsConsumer(app: ServiceApp): void {
  const config = serviceConfig(app, 'segments')
  const schema = app.get('schema')
  const assign = idempotent<typeof USER_REGISTERED>(
    { db: app.get('db'), schema, consumer: userRegistrations.purpose, logger: app.get('logger') },
    async (message, trx) => {
      const segment = segmentFor(message.payload, config.segmentRules, config.defaultSegment)
      await trx.withSchema(schema).table('segments').insert({ userId: message.payload.userId, segment }).onConflict('userId').ignore()
    }
  )
  app.get('bus').consumer({ ...withConfiguredRetry(userRegistrations, config), handlers: { [USER_REGISTERED]: assign } })
}
