import type { ConsumerDeclaration } from '../bus/consumer-topology.ts'
import type { RoutingKey } from '../contracts/index.ts'

/**
 * A consumer's declaration in its service's topology.ts, as the documentation
 * reads it: what it consumes (`bindings`) and, if its handlers derive events
 * with writeOutbox(), what it emits. None does today; one that starts to
 * declares it here, or events.md does not name it as a producer.
 */
export type ConsumerManifest = ConsumerDeclaration & { emits?: readonly RoutingKey[] }
