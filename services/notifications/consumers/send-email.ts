import type { Transporter } from 'nodemailer'
import { idempotent } from '../../../shared/bus/inbox.ts'
import { taskConsumer, taskDeclaration } from '../../../shared/bus/tasks.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../shared/contracts/index.ts'
import { withConfiguredRetry } from '../../../shared/feathers/consumer-config.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { deliverer } from '../delivery.ts'
import { sendEmailTask } from '../topology.ts'

/** The send-email task queue: each task's email recorded and sent once (inbox, same transaction). */
export function sendEmailConsumer(app: ServiceApp, mailer: Transporter): void {
  const deliver = deliverer(app, mailer)
  const inbox = { db: app.get('db'), schema: app.get('schema'), consumer: `task-${sendEmailTask.name}`, logger: app.get('logger') }
  // the service's configured retry delays (tests shorten them) apply to its task queue too
  const { retry } = withConfiguredRetry(taskDeclaration(sendEmailTask), app.get('config'))
  taskConsumer(app, {
    ...sendEmailTask,
    retry,
    handler: idempotent<typeof TASK_NOTIFICATIONS_SEND_EMAIL>(inbox, async (message, trx) => {
      const { userId, kind, to, subject, text, messageId } = message.payload
      await deliver({ mail: { kind, to, subject, text }, userId, messageId }, trx)
    })
  })
}
