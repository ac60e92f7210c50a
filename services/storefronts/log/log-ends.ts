import type { Channel, ConsumeMessage } from 'amqplib'

/** What the log holds now, as far as status needs it. */
export interface LogEnds {
  queue: string
  /** messages in the stream, as the broker's statistics last counted them: it lags, so nothing is decided on it */
  messages: number
  /** offset of the newest entry, undefined when the log is empty */
  lastOffset?: number
}

/** One entry's place and time. */
export interface LogMark {
  offset: number
  /** when the broker received it (the publisher's AMQP timestamp) */
  at?: Date
}

/**
 * Reads a few entries of a stream without declaring it (a passive check
 * first: an absent log is undefined, not created) and without a position of
 * its own: from `offset`, until `max` entries or until nothing more arrives
 * for `idleMs` (a stream never says it has no more). For `bazaar projections
 * status`: the newest entry (from 'last', the start of its last chunk), and
 * the first one a projection has not applied.
 */
export async function peekLog(channel: Channel, queue: string, from: number | 'last', { max = 10_000, idleMs = 300 } = {}): Promise<LogMark[]> {
  const marks: LogMark[] = []
  await channel.prefetch(Math.min(max, 1_000), false)
  return new Promise<LogMark[]>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let tag: string | undefined
    const finish = () => {
      clearTimeout(timer)
      const done = () => resolve(marks)
      if (tag) channel.cancel(tag).then(done, done)
      else done()
    }
    const idle = () => {
      clearTimeout(timer)
      timer = setTimeout(finish, idleMs)
    }
    channel
      .consume(queue, (message: ConsumeMessage | null) => {
        if (!message) return finish()
        const offset = Number(message.properties.headers?.['x-stream-offset'])
        const timestamp = Number(message.properties.timestamp)
        if (typeof from !== 'number' || offset >= from) marks.push({ offset, at: timestamp ? new Date(timestamp * 1000) : undefined })
        channel.ack(message)
        if (marks.length >= max) finish()
        else idle()
      }, { noAck: false, arguments: { 'x-stream-offset': typeof from === 'number' ? { '!': 'long', value: from } : from } })
      .then((ok) => {
        tag = ok.consumerTag
        idle()
      }, reject)
  })
}

/** The log's size and newest offset, or undefined when the storefronts service never declared it. */
export async function logEnds(channel: Channel, queue: string): Promise<LogEnds | undefined> {
  let messages: number
  try {
    messages = (await channel.checkQueue(queue)).messageCount
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined
    throw err
  }
  // The count is a statistic the broker refreshes every few seconds: a log just written to can still say 0.
  // The newest offset is read from the stream itself, whatever the count says (an empty log answers nothing).
  const tail = await peekLog(channel, queue, 'last')
  return { queue, messages, lastOffset: tail.at(-1)?.offset }
}
