import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/**
 * The storefronts service has no work queue: it reads its stream,
 * `<ns>.storefronts.event-log` (log/event-log.ts), from offsets it keeps itself.
 */
export const consumers: ConsumerDeclaration[] = []
