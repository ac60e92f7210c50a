import type { Channel, GetMessage } from 'amqplib'
import { Headers } from '../bus/headers.ts'
import { republishProperties } from '../bus/message.ts'
import type { Publisher, RawPublish } from '../bus/publisher.ts'
import { describeDeadLetter, hasCriteria, matches, passOverQueue, type DeadLetterFilter, type DeadLetterQueueRef, type Verdict } from './dead-letters.ts'

/**
 * A dead letter addressed back to the queue it failed in, through the default
 * exchange: same body and properties, attempts reset so the consumer's retry
 * policy starts over, and the replay counted.
 */
export function replayOf(message: GetMessage, targetQueue: string): RawPublish {
  const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) }
  delete headers['x-delivery-count'] // the dead-letter queue's own bookkeeping, not the message's
  headers[Headers.attempts] = 0
  headers[Headers.replays] = (Number(headers[Headers.replays]) || 0) + 1
  return {
    exchange: '',
    routingKey: targetQueue,
    body: message.content,
    properties: republishProperties(message.properties, headers)
  }
}

/** Spaces calls so that at most `perSecond` start each second (no limit when undefined). */
export function rateLimiter(perSecond: number | undefined): () => Promise<void> {
  if (!perSecond) return async () => {}
  const interval = 1000 / perSecond
  let next = Date.now()
  return async () => {
    const wait = next - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    next = Math.max(next, Date.now()) + interval
  }
}

/** Which dead letters a replay takes: every one, or those meeting the filter. */
export interface ReplaySelection {
  all?: boolean
  filter: DeadLetterFilter
}

/** Why a selection cannot be replayed (neither everything nor a criterion, or both), or undefined. */
export function selectionProblem(selection: ReplaySelection, terms = { all: '--all', criteria: '--id, --routing-key or --error' }): string | undefined {
  if (!selection.all && !hasCriteria(selection.filter)) return `choose the messages to replay: ${terms.all}, ${terms.criteria}`
  if (selection.all && hasCriteria(selection.filter)) return `${terms.all} cannot be combined with ${terms.criteria}`
  return undefined
}

export interface ReplaySummary {
  dlq: string
  dryRun: boolean
  /** messages in the dead-letter queue when the replay started */
  total: number
  /** chosen by the criteria */
  matched: number
  /** republished, confirmed, and removed from the dead-letter queue */
  replayed: number
  /** not chosen: still in the dead-letter queue, in their order */
  left: number
  /** chosen but their republish failed: still in the dead-letter queue */
  failed: number
  failures: Array<{ id?: string; error: string }>
  /** with dryRun: what would be replayed */
  wouldReplay?: Array<{ id?: string; routingKey?: string; originalQueue: string }>
  interrupted: boolean
}

export interface ReplayOptions extends ReplaySelection {
  /** a confirmed publisher; none for a dry run */
  publisher?: Pick<Publisher, 'publishRaw'>
  /** at most this many messages per second */
  rate?: number
  shouldStop?: () => boolean
  onStart?: (total: number) => void
  /** after each message read, with the summary so far */
  onVisited?: (summary: ReplaySummary) => void
}

/**
 * Sends chosen dead letters back to the queue each failed in. The guarantees of `bazaar dlq replay`,
 * wherever it runs: a message leaves the dead-letter queue only after the broker confirmed its
 * republish and routed it; one whose republish fails stays, and so does every message not chosen, in
 * its order (passOverQueue). A process that dies mid-way loses nothing: the broker returns what it
 * held unacknowledged (at worst a confirmed message is replayed twice, which the inbox absorbs).
 */
export async function replayDeadLetters(channel: Channel, ref: DeadLetterQueueRef, options: ReplayOptions): Promise<ReplaySummary> {
  const dryRun = !options.publisher
  const summary: ReplaySummary = {
    dlq: ref.dlq, dryRun, total: 0, matched: 0, replayed: 0, left: 0, failed: 0, failures: [], interrupted: false,
    ...(dryRun ? { wouldReplay: [] } : {})
  }
  const throttle = rateLimiter(options.rate)
  const visit = async (message: GetMessage, position: number): Promise<Verdict> => {
    const letter = describeDeadLetter(message, ref, position)
    if (!options.all && !matches(letter, options.filter)) return 'keep'
    summary.matched += 1
    if (!options.publisher) {
      summary.wouldReplay!.push({ id: letter.id, routingKey: letter.routingKey, originalQueue: letter.originalQueue })
      return 'keep'
    }
    await throttle()
    try {
      const { routed } = await options.publisher.publishRaw(replayOf(message, letter.originalQueue))
      if (!routed) throw new Error(`queue ${letter.originalQueue} does not exist`)
    } catch (err) {
      summary.failed += 1
      summary.failures.push({ id: letter.id, error: String((err as Error).message ?? err).replace(/\s*\n\s*/g, ' ') })
      return 'keep'
    }
    summary.replayed += 1
    return 'remove'
  }
  const pass = await passOverQueue(
    channel,
    ref.dlq,
    async (message, position) => {
      try {
        return await visit(message, position)
      } finally {
        options.onVisited?.(summary)
      }
    },
    {
      onStart: (total) => {
        summary.total = total
        options.onStart?.(total)
      },
      shouldStop: options.shouldStop
    }
  )
  summary.interrupted = pass.interrupted
  summary.left = pass.kept - summary.failed + (summary.total - pass.seen)
  return summary
}
