/**
 * How many deliveries a consumer is working on, and a way to wait until it
 * is none: a count, not a set of promises, so a message that succeeds at once
 * costs no promise to be tracked (each promise runs the work context's hooks).
 */
export class InFlight {
  private count = 0
  private waiters: Array<() => void> = []

  get size(): number {
    return this.count
  }

  enter(): void {
    this.count++
  }

  leave(): void {
    if (--this.count > 0) return
    this.count = 0
    for (const resolve of this.waiters.splice(0)) resolve()
  }

  /** Resolves once nothing is in flight (at once if nothing is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}
