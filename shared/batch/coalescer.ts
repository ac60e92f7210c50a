/**
 * Collects items and hands them to `flush` in batches: at most `maxBatch` at a
 * time, `concurrency` flushes at a time (one by default, which keeps batches in
 * order), and what arrives while the flushes run goes into the next one. At hundreds of items a second a round trip or a commit per batch,
 * not per item, is what keeps up. Bounded: once `capacity` items wait, `add`
 * waits for room, so a producer that outruns the flushes is slowed, never
 * buffered without end.
 *
 * `add` resolves when the item's batch has been flushed, and rejects with the
 * flush's error: each caller learns the fate of its own item. A flush that
 * fails some items only returns one entry per item, an error where it failed.
 */
export interface CoalescerOptions {
  /** items per flush */
  maxBatch: number
  /** items waiting at most; `add` waits beyond it (default: 4 batches) */
  capacity?: number
  /** flushes running at once (default 1: each batch starts once the one before it is done) */
  concurrency?: number
}

interface Waiting<T> {
  item: T
  settle: (err?: Error) => void
}

export class Coalescer<T> {
  private waiting: Array<Waiting<T>> = []
  private running = 0
  private scheduled = false
  private roomWaiters: Array<() => void> = []
  private readonly maxBatch: number
  private readonly capacity: number
  private readonly concurrency: number
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly flush: (items: T[]) => Promise<void | ReadonlyArray<Error | undefined>>,
    options: CoalescerOptions
  ) {
    this.maxBatch = Math.max(1, options.maxBatch)
    this.capacity = Math.max(this.maxBatch, options.capacity ?? this.maxBatch * 4)
    this.concurrency = Math.max(1, options.concurrency ?? 1)
  }

  /** Items waiting for a flush. */
  get size(): number {
    return this.waiting.length
  }

  add(item: T): Promise<void> {
    if (this.waiting.length >= this.capacity) return this.whenRoom().then(() => this.add(item))
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, settle: (err) => (err ? reject(err) : resolve()) })
      this.schedule()
    })
  }

  /** Resolves once nothing waits and no flush runs (shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && !this.scheduled && this.waiting.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || this.waiting.length === 0) return
    this.scheduled = true
    // After the current task, so that what is delivered in the same burst shares the first batch: a
    // client library hands over every message of one socket read in one task. Not the next loop turn
    // (setImmediate): on a busy event loop that waits behind every other I/O callback of the turn.
    queueMicrotask(() => {
      this.scheduled = false
      while (this.running < this.concurrency && this.waiting.length > 0) void this.flushOne(this.waiting.splice(0, this.maxBatch))
    })
  }

  private async flushOne(batch: Array<Waiting<T>>): Promise<void> {
    this.running++
    for (const wake of this.roomWaiters.splice(0)) wake()
    try {
      const outcomes = await this.flush(batch.map((w) => w.item))
      batch.forEach((w, i) => w.settle(outcomes?.[i]))
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      for (const w of batch) w.settle(error)
    } finally {
      this.running--
    }
    if (this.waiting.length > 0) this.schedule()
    else if (this.running === 0 && !this.scheduled) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private whenRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }
}
