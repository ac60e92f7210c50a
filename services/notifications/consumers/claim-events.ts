import { idempotent } from '../../../shared/bus/inbox.ts'
import { enqueueTask } from '../../../shared/bus/tasks.ts'
import { CLAIM_ESCALATED, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { claimEscalatedMail, messageIdOf } from '../mailer.ts'
import { admins } from '../projections/users.ts'
import { claimEvents } from '../topology.ts'

/**
 * An escalated claim is every admin's: one email task per admin, enqueued with the inbox row in one
 * transaction (a redelivered escalation enqueues nothing). Each email's Message-ID is fixed by the
 * escalation and the admin, and the task consumer sends each task once (its own inbox).
 */
export function claimEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const inbox = { db: app.get('db'), schema, consumer: claimEvents.purpose, logger: app.get('logger') }
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('bus').consumer({
    ...claimEvents,
    handlers: {
      [CLAIM_ESCALATED]: idempotent<typeof CLAIM_ESCALATED>(inbox, async (message, trx) => {
        for (const admin of await admins(trx, schema)) {
          const mail = claimEscalatedMail(admin, message.payload)
          await enqueueTask(trx, identity, TASK_NOTIFICATIONS_SEND_EMAIL, { userId: admin.id, ...mail, messageId: messageIdOf(`${message.id}.${admin.id}`, mail.kind) })
        }
      })
    }
  })
}
