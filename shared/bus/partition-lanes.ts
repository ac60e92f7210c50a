/**
 * One lane per key: work for a key starts when the work before it for that
 * key has settled, while other keys' work runs alongside. This is what keeps
 * a partition busy when one key is slow, where a whole partition queue one
 * delivery at a time would wait on it.
 */
export class KeyLanes {
  private readonly tails = new Map<string, Promise<void>>()

  run(key: string, work: () => Promise<void>): Promise<void> {
    const before = this.tails.get(key)
    // A failed piece of work does not stop the lane: the next one runs either way.
    const mine = before ? before.then(work, work) : work()
    this.tails.set(key, mine)
    const forget = () => {
      if (this.tails.get(key) === mine) this.tails.delete(key)
    }
    mine.then(forget, forget)
    return mine
  }

  /** keys with work queued or running */
  get size(): number {
    return this.tails.size
  }
}
