import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { USER_SESSIONS_REVOKED } from '../../shared/contracts/index.ts'
import { claimRoutingKeys, pushedRoutingKeys } from './history/audiences.ts'

/**
 * The gateway's durable queue: `<ns>.gateway.history`, a quorum queue that
 * competing gateway instances consume to record every event pushed to
 * clients, also while no instance was connected to push it.
 *
 * Not listed here because it is not durable: each instance's live queue, a
 * server-named exclusive auto-delete classic queue bound to the same keys
 * (see live/feed.ts), which lives and dies with that instance's connection.
 */
export const historyConsumer: ConsumerDeclaration = {
  service: 'gateway',
  purpose: 'history',
  bindings: pushedRoutingKeys.filter((key) => !(claimRoutingKeys as readonly string[]).includes(key)),
  // handled together and recorded in one round trip per batch (consumers/history.ts), in the queue's order
  prefetch: 200
}

/**
 * `<ns>.gateway.claim-history.p<i>`: a claim's events, recorded in their order. The history queue
 * alone would not keep it: its competing instances (and a failed recording retried later) can record
 * claim.escalated before the claim.opened another instance holds, and replay follows recorded order.
 * Partition queues with a single active consumer each, and one lane per claim in it, record a
 * claim's next event only once the one before it is recorded; other claims flow meanwhile.
 */
export const claimHistoryConsumer: ConsumerDeclaration = {
  service: 'gateway',
  purpose: 'claim-history',
  bindings: [...claimRoutingKeys],
  partitions: { count: 4 }
}

/**
 * `<ns>.gateway.sessions`: users whose sessions ended (logout, password change), recorded for every
 * instance to refuse their older tokens (consumers/sessions.ts).
 */
export const sessionsConsumer: ConsumerDeclaration = {
  service: 'gateway',
  purpose: 'sessions',
  bindings: [USER_SESSIONS_REVOKED]
}

export const consumers: ConsumerDeclaration[] = [historyConsumer, claimHistoryConsumer, sessionsConsumer]
