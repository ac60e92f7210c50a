/**
 * Work started at a steady interval, each piece left to run on its own; `stop()` stops starting more and
 * waits for those in flight. What the chaos run's load generators share.
 */
export class PacedWork {
  private timer?: NodeJS.Timeout
  private readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly work: () => Promise<void>) {}

  /** `now`: the first piece at once, not after the first interval. */
  start(intervalMs: number, { now = false } = {}): void {
    if (now) this.step()
    this.timer = setInterval(() => this.step(), intervalMs)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await Promise.allSettled([...this.inFlight])
  }

  private step(): void {
    const running = this.work()
    this.inFlight.add(running)
    void running.finally(() => this.inFlight.delete(running))
  }
}

/** Counts a refused or unanswered request under `<what> <status>` (status 0: no answer). */
export function countFailure(failures: Record<string, number>, what: string, status: number): void {
  const key = `${what} ${status || 'no answer'}`
  failures[key] = (failures[key] ?? 0) + 1
}
