import { Counter, type Registry } from 'prom-client'
import { inboxEvents, type DuplicateSkipped } from '../bus/inbox.ts'

/**
 * Redeliveries the inbox absorbed (their effect not run again), for this app's schema only: the
 * inbox's event is module-wide, and several apps may share the process. Returns the subscriber,
 * which returns the unsubscribe: an app subscribes at setup, so one made and never started (the docs
 * build reads apps' manifests) leaves no listener behind.
 */
export function countDuplicates(registry: Registry, schema: string): () => () => void {
  const duplicates = new Counter({
    name: 'bazaar_inbox_duplicates_total',
    help: 'Redelivered messages the inbox recognised and did not run again (also counted handled: their delivery is acked)',
    labelNames: ['consumer', 'routing_key'],
    registers: [registry]
  })
  const listener = (skipped: DuplicateSkipped) => {
    if (skipped.schema === schema) duplicates.labels(skipped.consumer, skipped.routingKey).inc()
  }
  return () => {
    inboxEvents.on('duplicate', listener)
    return () => void inboxEvents.off('duplicate', listener)
  }
}
