import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/**
 * The subscriptions service consumes no queue: its renewals are delayed jobs in its own schema
 * (renewals/renewal.ts), and what they decide leaves as subscription.* events through its outbox.
 */
export const consumers: ConsumerDeclaration[] = []
