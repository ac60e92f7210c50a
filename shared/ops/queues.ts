import { names } from '../bus/names.ts'
import type { Topology } from '../bus/topology.ts'
import type { BrokerQueue } from './management.ts'

/** A consuming queue with its delay queues and dead-letter queue. */
export interface QueueGroup {
  service: string
  queue: string
  retryQueues: string[]
  dlq?: string
  /** declared by a service's topology.ts */
  declared: boolean
}

/**
 * Groups the declared queues and those the broker has in the namespace by the
 * work queue they belong to (`<q>`, `<q>.retry.<delay>`, `<q>.dlq`).
 */
export function groupQueues(namespace: string, declared: Topology, onBroker: BrokerQueue[]): QueueGroup[] {
  const groups = new Map<string, QueueGroup>()
  const group = (queue: string, service?: string): QueueGroup => {
    let g = groups.get(queue)
    if (!g) {
      g = { service: service ?? serviceOf(namespace, queue), queue, retryQueues: [], declared: false }
      groups.set(queue, g)
    }
    return g
  }
  // A partitioned consumer has partition queues <q>.p0, <q>.p1... and one <q>.dlq: shown with partition 0.
  // Known from the declarations or, for a caller without them (the console), from the broker's names.
  const partitioned = new Set(
    [...declared.queues.filter((q) => q.purpose === 'work').map((q) => q.name), ...onBroker.map((q) => q.name)]
      .filter((name) => name.endsWith('.p0'))
      .map((name) => name.slice(0, -'.p0'.length))
  )
  const workQueueOf = (dlq: string) => {
    const queue = names.queueOfDeadLetterQueue(dlq)
    return partitioned.has(queue) ? names.partitionQueue(queue, 0) : queue
  }
  const place = (name: string, service?: string) => {
    if (names.isDeadLetterQueue(name)) group(workQueueOf(name), service).dlq = name
    else if (/\.retry\.[^.]+$/.test(name)) {
      const g = group(name.replace(/\.retry\.[^.]+$/, ''), service)
      if (!g.retryQueues.includes(name)) g.retryQueues.push(name)
    } else group(name, service)
  }
  for (const q of declared.queues) {
    place(q.name, q.service)
    if (q.purpose === 'work') group(q.name, q.service).declared = true
  }
  for (const q of onBroker) place(q.name)
  return [...groups.values()].sort((a, b) => a.service.localeCompare(b.service) || a.queue.localeCompare(b.queue))
}

function serviceOf(namespace: string, queue: string): string {
  return queue.slice(namespace.length + 1).split('.')[0] ?? '?'
}

/** A queue name without the namespace prefix, for tables. */
export function shortName(namespace: string, name: string): string {
  return name.startsWith(`${namespace}.`) ? name.slice(namespace.length + 1) : name
}
