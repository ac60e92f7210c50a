import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { taskDeclaration, type TaskDeclaration } from '../../shared/bus/tasks.ts'
import { CLAIM_ESCALATED, ORDER_CREATED, SUBSCRIPTION_PAST_DUE, TASK_NOTIFICATIONS_SEND_EMAIL } from '../../shared/contracts/index.ts'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'

/** `<ns>.notifications.user-events`: every user.* event; each may send an email. */
export const userEvents: ConsumerDeclaration = {
  service: 'notifications',
  purpose: 'user-events',
  bindings: ['user.#'],
  // A mail server that is down for a while must not cost an email: back off up to ten minutes.
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000, 600_000] }
}

/** `<ns>.notifications.order-events`: each seller's share of each order (order.created), for the seller's daily digest. */
export const orderEvents: ConsumerDeclaration = {
  service: 'notifications',
  purpose: 'order-events',
  bindings: [ORDER_CREATED]
}

/**
 * `<ns>.notifications.claim-events.p<i>`: escalated claims, one email task per admin. Partitioned like
 * every consumer of claim.*: a claim's events are handled in their order.
 */
export const claimEvents: ConsumerManifest = {
  service: 'notifications',
  purpose: 'claim-events',
  bindings: [CLAIM_ESCALATED],
  partitions: { count: 2 },
  emits: [TASK_NOTIFICATIONS_SEND_EMAIL]
}

/**
 * `<ns>.notifications.subscription-events`: plans gone past due, one email task to the seller. One event
 * per past-due needs no order among a seller's events, so no partitions; a seller notifications has not
 * learned of yet (user.registered still on its way) is retried with backoff.
 */
export const subscriptionEvents: ConsumerManifest = {
  service: 'notifications',
  purpose: 'subscription-events',
  bindings: [SUBSCRIPTION_PAST_DUE],
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000, 600_000] },
  emits: [TASK_NOTIFICATIONS_SEND_EMAIL]
}

/**
 * `<ns>.notifications.task-send-email`: the emails that leave the event or job that caused them
 * (escalations, digests): retried with backoff up to ten minutes, then the dead-letter queue.
 */
export const sendEmailTask: TaskDeclaration<'notifications', 'send-email'> = {
  service: 'notifications',
  name: 'send-email',
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000, 600_000] }
}

export const consumers: ConsumerDeclaration[] = [userEvents, orderEvents, claimEvents, subscriptionEvents, taskDeclaration(sendEmailTask)]
