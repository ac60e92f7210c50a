import type { Channel } from 'amqplib'

export interface QueueState {
  /** messages ready for delivery, exact (passive declare) */
  ready: number
  consumers: number
}

/**
 * Exact depths and consumer counts by passive declare (the management API's counts lag by its
 * statistics interval). A passive declare of a missing queue closes the channel, so a fresh one is
 * opened for the next question.
 */
export class QueueInspector {
  private channel?: Promise<Channel>

  constructor(private readonly openChannel: () => Promise<Channel>) {}

  /** Exact ready count and consumers of a queue, or undefined when it does not exist. */
  async inspect(queue: string): Promise<QueueState | undefined> {
    this.channel ??= this.openChannel()
    const channel = this.channel
    try {
      const ok = await (await channel).checkQueue(queue)
      return { ready: ok.messageCount, consumers: ok.consumerCount }
    } catch (err) {
      if (this.channel === channel) this.channel = undefined // the broker closed the channel
      if ((err as { code?: number }).code === 404) return undefined
      throw err
    }
  }
}
