import type { Channel } from 'amqplib'
import { describeDeadLetter, peekHead } from './dead-letters.ts'
import type { QueueInspector } from './inspector.ts'
import type { BrokerQueue } from './management.ts'
import type { QueueGroup } from './queues.ts'

export interface QueueStatus {
  service: string
  queue: string
  declared: boolean
  /** false when declared but absent from the broker */
  exists: boolean
  ready: number | null
  unacked: number | null
  consumers: number | null
  /** age of the head message, when known */
  oldestMessageAgeMs?: number
  retry: number | null
  deadLetters: number | null
  /** its dead-letter queue, when it has one */
  dlq?: string
  oldestDeadLetterAt?: string
  /** messages per second over the management API's sampling window, when it has them */
  publishRate?: number
  deliverRate?: number
  ackRate?: number
}

/**
 * Each queue group's state: exact depths and consumers by passive declare, unacked counts and rates
 * from the management API's listing (`onBroker`), with `peekDeadLetters` the oldest dead letter's
 * time (a peek of the dead-letter queue's head) and, with `peekWork`, the age of the work queue's
 * head message. A peek counts as one delivery toward the queue's delivery limit, so both are asked
 * for: the CLI's one-off `status` peeks, the console's periodic refresh does not.
 */
export async function queueStatuses(
  inspector: QueueInspector,
  peek: Channel,
  groups: QueueGroup[],
  onBroker: BrokerQueue[],
  { peekWork, peekDeadLetters }: { peekWork: boolean; peekDeadLetters: boolean }
): Promise<QueueStatus[]> {
  const listed = new Map(onBroker.map((q) => [q.name, q]))
  const result: QueueStatus[] = []
  for (const group of groups) {
    const state = await inspector.inspect(group.queue)
    let retry: number | null = null
    for (const name of group.retryQueues) {
      const r = await inspector.inspect(name)
      if (r) retry = (retry ?? 0) + r.ready
    }
    const dlq = group.dlq ? await inspector.inspect(group.dlq) : undefined
    const stats = listed.get(group.queue)?.message_stats
    const status: QueueStatus = {
      service: group.service,
      queue: group.queue,
      declared: group.declared,
      exists: state !== undefined,
      ready: state?.ready ?? null,
      unacked: state ? (listed.get(group.queue)?.messages_unacknowledged ?? 0) : null,
      consumers: state?.consumers ?? null,
      retry,
      deadLetters: dlq?.ready ?? null,
      dlq: group.dlq,
      publishRate: stats?.publish_details?.rate,
      deliverRate: stats?.deliver_get_details?.rate,
      ackRate: stats?.ack_details?.rate
    }
    if (peekWork && state && state.ready > 0) {
      const head = await peekHead(peek, group.queue)
      const ts = Number(head?.properties.timestamp)
      if (ts) status.oldestMessageAgeMs = Date.now() - ts * 1000
    }
    if (peekDeadLetters && group.dlq && dlq && dlq.ready > 0) {
      const head = await peekHead(peek, group.dlq)
      if (head) status.oldestDeadLetterAt = describeDeadLetter(head, { dlq: group.dlq, queue: group.queue }, 1).deadLetteredAt
    }
    result.push(status)
  }
  return result
}
