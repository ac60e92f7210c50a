import { idempotent } from '../../../shared/bus/inbox.ts'
import { enqueueTask } from '../../../shared/bus/tasks.ts'
import { SUBSCRIPTION_PAST_DUE, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import { messageIdOf, planPastDueMail } from '../mailer.ts'
import { knownUser } from '../projections/users.ts'
import { subscriptionEvents } from '../topology.ts'

/**
 * A plan gone past due: one email task to its seller, enqueued with the inbox row in one transaction
 * (a redelivered event enqueues nothing). The seller's address is notifications' own (from
 * user.registered); one not known yet throws, and the event is retried. The Message-ID is fixed by the event.
 */
export function subscriptionEventsConsumer(app: ServiceApp): void {
  const schema = app.get('schema')
  const inbox = { db: app.get('db'), schema, consumer: subscriptionEvents.purpose, logger: app.get('logger') }
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('bus').consumer({
    // the service's configured retry delays (tests shorten them)
    ...withConfiguredRetry(subscriptionEvents, app.get('config')),
    handlers: {
      [SUBSCRIPTION_PAST_DUE]: idempotent<typeof SUBSCRIPTION_PAST_DUE>(inbox, async (message, trx) => {
        const seller = await knownUser(trx, schema, message.payload.sellerId)
        if (!seller) throw new Error(`seller ${message.payload.sellerId} is not known (yet): no address for the past-due email`)
        const mail = planPastDueMail(seller, message.payload)
        await enqueueTask(trx, identity, TASK_NOTIFICATIONS_SEND_EMAIL, { userId: seller.id, ...mail, messageId: messageIdOf(message.id, mail.kind) })
      })
    }
  })
}
