import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import type { HandlerMap } from '../../../shared/bus/consumer.ts'
import { pushedRoutingKeys, type PushedKey } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import { historyConsumer as declaration } from '../topology.ts'

/**
 * Records every event clients are pushed into the shared history, from the
 * durable queue. Recording is idempotent by message id (the live feed of each
 * instance records the same rows), so this consumer needs no inbox.
 */
export function historyConsumer(store: EventStore) {
  return (app: ServiceApp) => {
    const record = async (message: Envelope<PushedKey>) => {
      await store.record(message.id, message.routingKey, message.payload)
    }
    const handlers: HandlerMap = {}
    for (const key of pushedRoutingKeys) (handlers as Record<string, unknown>)[key] = record
    app.get('bus').consumer({ ...declaration, handlers })
  }
}
