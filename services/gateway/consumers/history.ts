import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import type { HandlerMap } from '../../../shared/bus/consumer.ts'
import { Coalescer } from '../../../shared/batch/coalescer.ts'
import { pushedRoutingKeys, type PushedKey } from '../history/audiences.ts'
import type { EventToRecord } from '../history/event-log.ts'
import type { EventStore } from '../history/store.ts'
import { claimHistoryConsumer, historyConsumer as declaration } from '../topology.ts'

/**
 * Records every event clients are pushed into the shared history, from the
 * durable queue. Recording is idempotent by message id (the live feed of each
 * instance records the same rows, and is usually first), so this consumer
 * needs no inbox. Messages handled together (up to the queue's prefetch) are
 * recorded together, in the order they were handed over: one round trip,
 * which only reads when the live feeds were first. A claim's events come
 * through their own partitioned queue, so that they are recorded in order.
 */
export function historyConsumer(store: EventStore) {
  return (app: ServiceApp) => {
    const recorder = new Coalescer<EventToRecord>(async (items) => void (await store.recordMany(items)), { maxBatch: 500, capacity: declaration.prefetch ?? 500 })
    const record = (message: Envelope<PushedKey>) => recorder.add({ messageId: message.id, routingKey: message.routingKey, payload: message.payload })
    const handlers: HandlerMap = {}
    for (const key of pushedRoutingKeys) (handlers as Record<string, unknown>)[key] = record
    app.get('bus').consumer({ ...declaration, handlers })
    // A claim's events, one claim at a time in its order (see topology.ts); recorded by the same batches.
    app.get('bus').consumer({ ...claimHistoryConsumer, handlers })
  }
}
