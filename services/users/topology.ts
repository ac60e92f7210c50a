import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** users consumes nothing: it only publishes `user.registered` and `user.updated` (through its outbox). */
export const consumers: ConsumerDeclaration[] = []
