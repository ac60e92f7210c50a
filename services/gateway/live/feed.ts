import { EventEmitter } from 'node:events'
import type { Bus } from '../../../shared/bus/bus.ts'
import type { LiveConsumer, LiveMessage } from '../../../shared/bus/live-consumer.ts'
import type { Logger } from '../../../shared/log/logger.ts'
import { pushedRoutingKeys, type PushedKey, type RecordedEvent } from '../history/audiences.ts'
import type { EventStore } from '../history/store.ts'
import type { StreamHub } from './hub.ts'

export interface LiveFeedOptions {
  /** how often to look for recorded events the live queue did not bring */
  catchUpIntervalMs: number
  prefetch?: number
  logger?: Logger
}

/** When one batch of live events went through this instance (performance.now() of this process). */
export interface PushTimes {
  /** per event, when its delivery arrived, in the order of `events` */
  deliveredAt: number[]
  /** the batch's recording started */
  recordingAt: number
  /** ids known (recorded) */
  recordedAt: number
  /** pushed to the streams */
  pushedAt: number
}

export interface LiveFeedEvents {
  /** a live batch was recorded and pushed (its events in delivery order) */
  pushed: [events: RecordedEvent[], times: PushTimes]
}

/**
 * This instance's live feed, on the bus's live kind (an exclusive queue of its
 * own, declared again after every reconnect). Each event is recorded in the
 * shared history, which gives it its id, then pushed to this instance's streams.
 *
 * Events are pushed in id order with no gaps: if an event arrives with an id
 * beyond the next one expected, the ones in between (recorded by another
 * instance or by the durable history consumer while this queue did not
 * exist) are read from the history and pushed first. A periodic catch-up
 * does the same when nothing arrives live, and one runs whenever the queue
 * is declared again. Work is serial; what arrives while a batch is recorded
 * is recorded together next (one commit per batch).
 */
export class LiveFeed extends EventEmitter<LiveFeedEvents> {
  private readonly live: LiveConsumer<PushedKey>
  private highWater = 0
  private chain: Promise<void> = Promise.resolve()
  private timer?: NodeJS.Timeout

  constructor(
    bus: Bus,
    private readonly store: EventStore,
    private readonly hub: StreamHub,
    private readonly options: LiveFeedOptions
  ) {
    super()
    this.live = bus.live<PushedKey>({
      label: 'gateway live feed',
      routingKeys: pushedRoutingKeys,
      prefetch: options.prefetch ?? 500,
      handle: (batch) => this.serially(() => this.push(batch))
    })
    // Whatever was published while there was no queue was recorded by the history consumer.
    this.live.on('consuming', () => void this.serially(() => this.catchUp()))
  }

  async start(): Promise<void> {
    let bound!: () => void
    const queueBound = new Promise<void>((resolve) => (bound = resolve))
    // Start from what is recorded once the queue is bound: anything later arrives live or is caught up.
    void this.serially(async () => {
      await queueBound
      this.highWater = await this.store.maxId()
    })
    try {
      await this.live.start()
    } finally {
      bound()
    }
    this.timer = setInterval(() => void this.serially(() => this.catchUp()), this.options.catchUpIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.live.stop()
    await this.chain
  }

  /** Runs work after the work before it; a failure is logged, and the next catch-up pushes what it missed. */
  private serially(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work).catch((err: Error) => {
      this.options.logger?.warn({ err: err.message }, 'live feed: event not pushed now; the catch-up will push it')
    })
    return this.chain
  }

  /** Records a live batch (in one statement) and pushes it in id order. */
  private async push(batch: Array<LiveMessage<PushedKey>>): Promise<void> {
    const recordingAt = performance.now()
    const recorded = await this.store.recordMany(batch.map((m) => ({ messageId: m.id, routingKey: m.routingKey, payload: m.payload })))
    const recordedAt = performance.now()
    for (const event of [...recorded].sort((a, b) => a.id - b.id)) {
      if (event.id <= this.highWater) continue
      if (event.id > this.highWater + 1) await this.catchUp(event.id - 1)
      if (event.id > this.highWater) this.dispatch(event)
    }
    if (this.listenerCount('pushed') > 0) {
      this.emit('pushed', recorded, { deliveredAt: batch.map((m) => m.deliveredAt), recordingAt, recordedAt, pushedAt: performance.now() })
    }
  }

  /** Pushes recorded events after the last one pushed (up to `upTo`), in id order. */
  private async catchUp(upTo = Number.MAX_SAFE_INTEGER): Promise<void> {
    for (;;) {
      const page = await this.store.after(this.highWater)
      for (const event of page) {
        if (event.id > upTo) return
        this.dispatch(event)
      }
      if (page.length < 1_000) return
    }
  }

  private dispatch(event: RecordedEvent): void {
    this.highWater = event.id
    this.hub.dispatch(event)
  }
}
