import { setTimeout as sleep } from 'node:timers/promises'
import { now } from './stats.ts'

/**
 * Calls `send(seq)` `total` times at a steady `ratePerSec`: on each tick it
 * sends what the schedule says is due, so a late tick catches up rather than
 * lowering the rate. Returns the rate achieved.
 */
export async function paced(total: number, ratePerSec: number, send: (seq: number) => void): Promise<number> {
  const start = now()
  let seq = 0
  while (seq < total) {
    const due = Math.min(total, Math.floor(((now() - start) * ratePerSec) / 1000) + 1)
    while (seq < due) send(seq++)
    if (seq < total) await sleep(1)
  }
  return total / ((now() - start) / 1000)
}

/** Runs `work(seq)` for seq 0..total-1 with at most `concurrency` running at once. */
export async function pooled(total: number, concurrency: number, work: (seq: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < total) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
}
