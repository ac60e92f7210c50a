import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import type { Envelope } from '../../../shared/bus/envelope.ts'
import type { HandlerMap } from '../../../shared/bus/consumer.ts'
import type { EventPayload } from '../../../shared/contracts/index.ts'
import { pushedRoutingKeys, type PushedKey } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import { historyConsumer as declaration } from '../topology.ts'

type Item = { messageId: string; routingKey: PushedKey; payload: EventPayload<PushedKey> }

/**
 * Records every event clients are pushed into the shared history, from the
 * durable queue. Recording is idempotent by message id (the live feed of each
 * instance records the same rows, and is usually first), so this consumer
 * needs no inbox. Messages handled together (up to the queue's prefetch) are
 * recorded together, in the order they were handed over: one round trip,
 * which only reads when the live feeds were first.
 */
export function historyConsumer(store: EventStore) {
  return (app: ServiceApp) => {
    const recorder = new BatchRecorder(store)
    const record = (message: Envelope<PushedKey>) => recorder.record({ messageId: message.id, routingKey: message.routingKey, payload: message.payload })
    const handlers: HandlerMap = {}
    for (const key of pushedRoutingKeys) (handlers as Record<string, unknown>)[key] = record
    app.get('bus').consumer({ ...declaration, handlers })
  }
}

/** Coalesces what is handed over while a batch is being recorded into the next batch. */
class BatchRecorder {
  private waiting: Array<{ item: Item; done: (err?: Error) => void }> = []
  private busy = false

  constructor(private readonly store: EventStore) {}

  record(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, done: (err) => (err ? reject(err) : resolve()) })
      if (!this.busy) {
        this.busy = true
        setImmediate(() => void this.drain())
      }
    })
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, 500)
      try {
        await this.store.recordMany(batch.map((b) => b.item))
        for (const b of batch) b.done()
      } catch (err) {
        for (const b of batch) b.done(err as Error)
      }
    }
    this.busy = false
  }
}
