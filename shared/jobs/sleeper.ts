/**
 * Where a runner's loops wait: until a timer (the next due time, asked of the
 * database, or the safety poll) or a wake-up (NOTIFY, a commit in this
 * process), whichever comes first. A wake-up that comes while nobody waits is
 * remembered, so one arriving between "nothing to claim" and "wait" is not lost.
 */
export class Sleeper {
  private waiters = new Set<() => void>()
  private pending = false

  /** Wakes everyone waiting now, or the next to wait. */
  wake(): void {
    if (!this.waiters.size) {
      this.pending = true
      return
    }
    const waiters = [...this.waiters]
    this.waiters.clear()
    for (const resolve of waiters) resolve()
  }

  /** Resolves after `ms` or at the next wake(), whichever is first (at once if a wake-up is pending). */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      this.waiters.add(done)
    })
  }

  /** Forgets a remembered wake-up (the caller is about to look for work anyway). */
  clear(): void {
    this.pending = false
  }
}
