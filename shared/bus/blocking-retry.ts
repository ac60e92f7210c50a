export type WaitOutcome = 'retry' | 'skip' | 'stop'

/**
 * The state of a blocking (ordered) consumer's one message under retry: the
 * backoff wait, which an operator's skip or a shutdown cuts short. A skip that
 * arrives while a retry attempt is running takes effect when that attempt fails.
 */
export class BlockingRetry {
  private retrying = false
  private skipPending = false
  private abortWait?: (outcome: WaitOutcome) => void

  /** The message in hand has failed at least once and is being retried in place. */
  get isRetrying(): boolean {
    return this.retrying
  }

  get skipRequested(): boolean {
    return this.skipPending
  }

  /** Called after a failed attempt: waits `ms` unless skipped or stopped first. */
  wait(ms: number): Promise<WaitOutcome> {
    this.retrying = true
    if (this.skipPending) return Promise.resolve('skip')
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('retry'), ms)
      const finish = (outcome: WaitOutcome) => {
        clearTimeout(timer)
        this.abortWait = undefined
        resolve(outcome)
      }
      this.abortWait = finish
    })
  }

  /** Operator's skip; false when no message is being retried. */
  skip(): boolean {
    if (!this.retrying) return false
    this.skipPending = true
    this.abortWait?.('skip')
    return true
  }

  /** Shutdown: a waiting message goes back to the queue at once. */
  stop(): void {
    this.abortWait?.('stop')
  }

  /** The message is settled (acked, dead-lettered or requeued). */
  done(): void {
    this.retrying = false
    this.skipPending = false
  }
}
