import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.notifications.user-events`: every user.* event; each may send an email. */
export const userEvents: ConsumerDeclaration = {
  service: 'notifications',
  purpose: 'user-events',
  bindings: ['user.#'],
  // A mail server that is down for a while must not cost an email: back off up to ten minutes.
  retry: { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000, 600_000] }
}

export const consumers: ConsumerDeclaration[] = [userEvents]
