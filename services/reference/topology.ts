import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/**
 * The reference service consumes no queue: it is the source of country.*,
 * currency.* and flag.changed (through its outbox), which its stream
 * `<ns>.reference.kv` keeps for every service's in-memory replica (shared/kv).
 */
export const consumers: ConsumerDeclaration[] = []
