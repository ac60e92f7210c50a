import type { RoutingKey } from '../contracts/index.ts'

/** Code outside a resource that publishes events directly (the operator CLI): what it sends and from where. */
export interface PublisherManifest {
  /** who publishes, as the documentation names it */
  producer: string
  /** the module that publishes */
  file: string
  /** how it publishes */
  via: string
  emits: readonly RoutingKey[]
}
