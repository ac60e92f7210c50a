import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'
import { USER_SESSIONS_REVOKED } from '../../shared/contracts/index.ts'
import { pushedRoutingKeys } from './history/audiences.ts'

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
  bindings: [...pushedRoutingKeys],
  // handled together and recorded in one round trip per batch (consumers/history.ts), in the queue's order
  prefetch: 200
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

export const consumers: ConsumerDeclaration[] = [historyConsumer, sessionsConsumer]
