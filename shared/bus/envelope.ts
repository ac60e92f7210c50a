import type { ConsumeMessage } from 'amqplib'
import type { EventPayload, RoutingKey } from '../contracts/index.ts'

/** A delivered event as a handler sees it: the validated payload and where it came from. */
export interface Envelope<K extends RoutingKey = RoutingKey> {
  id: string
  routingKey: K
  payload: EventPayload<K>
  requestId?: string
  correlationId?: string
  causationId?: string
  appId?: string
  publishedAt?: Date
  /** 1 on the first run of the handler, then 2, 3... */
  attempt: number
  /** the broker says it may have been delivered before */
  redelivered: boolean
  headers: Record<string, unknown>
  raw: ConsumeMessage
}
