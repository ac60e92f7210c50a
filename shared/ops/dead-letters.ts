import type { Channel, GetMessage } from 'amqplib'
import { Headers } from '../bus/headers.ts'
import { names } from '../bus/names.ts'
import { topicMatches } from '../bus/topic.ts'
import { OpsError } from './errors.ts'
import type { QueueState } from './inspector.ts'

/** A dead-lettered message as an operator reads it. */
export interface DeadLetter {
  /** position in the dead-letter queue at the time it was read, from 1 */
  position: number
  id?: string
  routingKey?: string
  /** where a replay sends it: the queue it failed in */
  originalQueue: string
  kind?: string
  error?: string
  attempts?: number
  replays: number
  firstFailureAt?: string
  lastFailureAt?: string
  deadLetteredAt?: string
  publishedAt?: string
  appId?: string
  payloadPreview: string
}

export interface DeadLetterQueueRef {
  dlq: string
  /** the consuming queue it belongs to */
  queue: string
}

/** What resolving a queue name needs: the namespace, and a way to ask the broker whether a queue exists. */
export interface QueueLookup {
  namespace: string
  inspect(queue: string): Promise<QueueState | undefined>
}

/**
 * `<queue>` as operators type it: the dead-letter queue or its work queue,
 * with or without the namespace prefix. Fails with one line (an OpsError,
 * 404) when the broker has no such dead-letter queue.
 */
export async function resolveDeadLetterQueue(broker: QueueLookup, input: string): Promise<DeadLetterQueueRef> {
  const ns = broker.namespace
  const full = input.startsWith(`${ns}.`) ? input : `${ns}.${input}`
  const dlq = names.isDeadLetterQueue(full) ? full : names.deadLetterQueue(full)
  if (!(await broker.inspect(dlq))) {
    throw new OpsError(`unknown queue ${input}: namespace ${ns} has no dead-letter queue ${dlq} (see bazaar dlq list)`, 404)
  }
  return { dlq, queue: names.queueOfDeadLetterQueue(dlq) }
}

const text = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : String(value)

function num(value: unknown): number | undefined {
  const n = Number(value)
  return value === undefined || value === null || Number.isNaN(n) ? undefined : n
}

/** The first x-death entry, present when the broker itself dead-lettered the message (delivery limit). */
function brokerDeath(headers: Record<string, unknown>): { queue?: string; reason?: string; time?: unknown } | undefined {
  const deaths = headers['x-death']
  return Array.isArray(deaths) && deaths.length ? (deaths[0] as { queue?: string; reason?: string }) : undefined
}

function amqpTime(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString()
  const seconds = num((value as { value?: unknown })?.value ?? value)
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString()
}

export function describeDeadLetter(message: GetMessage, ref: DeadLetterQueueRef, position: number): DeadLetter {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>
  const death = brokerDeath(headers)
  const timestamp = num(message.properties.timestamp)
  return {
    position,
    id: text(message.properties.messageId),
    routingKey: text(headers[Headers.originalRoutingKey]) ?? text(message.properties.type),
    originalQueue: text(headers[Headers.originalQueue]) ?? death?.queue ?? ref.queue,
    kind: text(headers[Headers.errorKind]) ?? (death ? `broker:${death.reason}` : undefined),
    error: text(headers[Headers.error]) ?? (death ? `dead-lettered by the broker (${death.reason})` : undefined),
    attempts: num(headers[Headers.attempts]),
    replays: num(headers[Headers.replays]) ?? 0,
    firstFailureAt: text(headers[Headers.firstFailureAt]),
    lastFailureAt: text(headers[Headers.lastFailureAt]),
    deadLetteredAt: text(headers[Headers.deadLetteredAt]) ?? amqpTime(death?.time),
    publishedAt: timestamp ? new Date(timestamp * 1000).toISOString() : undefined,
    appId: text(message.properties.appId),
    payloadPreview: preview(message.content)
  }
}

/** The body as text for a person to read, cut at `max` characters (the console shows up to a few kB). */
export function preview(body: Buffer, max = 80): string {
  const flat = body.toString('utf8').replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat
}

/** Which dead letters an operator chose. Criteria combine: a message must meet all given. */
export interface DeadLetterFilter {
  ids?: string[]
  /** an exact routing key or a topic pattern (`user.*`, `order.#`) */
  routingKey?: string
  /** text the error contains, case-insensitively */
  error?: string
}

export function hasCriteria(filter: DeadLetterFilter): boolean {
  return Boolean(filter.ids?.length || filter.routingKey || filter.error)
}

export function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.ids?.length && !(letter.id && filter.ids.includes(letter.id))) return false
  if (filter.routingKey && !(letter.routingKey && topicMatches(filter.routingKey, letter.routingKey))) return false
  if (filter.error && !letter.error?.toLowerCase().includes(filter.error.toLowerCase())) return false
  return true
}

export type Verdict = 'keep' | 'remove'

export interface PassResult {
  /** messages read */
  seen: number
  removed: number
  kept: number
  /** the pass stopped early (interrupted) */
  interrupted: boolean
}

/**
 * One pass over the messages a queue holds when the pass starts, in queue
 * order. Each is fetched (basic.get) and held unacknowledged while `visit`
 * decides: `remove` acks it at once (the visitor has already made it safe
 * elsewhere), `keep` holds it. At the end the kept ones are requeued one by
 * one in their original order; a quorum queue delivers returned messages
 * first, in the order they were returned, so the queue keeps its order. If
 * the process dies instead, the broker returns every unacked message: nothing
 * is lost either way. Messages arriving during the pass are not visited.
 */
export async function passOverQueue(
  channel: Channel,
  queue: string,
  visit: (message: GetMessage, position: number) => Promise<Verdict>,
  options: { limit?: number; onStart?: (total: number) => void; shouldStop?: () => boolean } = {}
): Promise<PassResult> {
  const { messageCount } = await channel.checkQueue(queue)
  const total = Math.min(messageCount, options.limit ?? Infinity)
  options.onStart?.(total)
  const held: GetMessage[] = []
  const result: PassResult = { seen: 0, removed: 0, kept: 0, interrupted: false }
  try {
    while (result.seen < total) {
      if (options.shouldStop?.()) {
        result.interrupted = true
        break
      }
      const message = await channel.get(queue, { noAck: false })
      if (!message) break
      result.seen += 1
      const verdict = await visit(message, result.seen).catch((err: unknown) => {
        held.push(message)
        throw err
      })
      if (verdict === 'remove') {
        channel.ack(message)
        result.removed += 1
      } else {
        held.push(message)
      }
    }
  } finally {
    for (const message of held) {
      try {
        channel.nack(message, false, true)
      } catch {
        // channel gone: the broker has returned them already
      }
    }
    result.kept = held.length
  }
  // A round trip after the nacks, so they are applied before the caller reads the queue again.
  await channel.checkQueue(queue)
  return result
}

/**
 * The head message of a queue, read and put straight back (basic.get, then
 * nack with requeue: a quorum queue redelivers it first). Counts as one
 * delivery of that message, so it is used only where no delivery limit applies
 * unless the operator asks.
 */
export async function peekHead(channel: Channel, queue: string): Promise<GetMessage | undefined> {
  const message = await channel.get(queue, { noAck: false })
  if (!message) return undefined
  channel.nack(message, false, true)
  return message
}
