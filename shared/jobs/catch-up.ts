import { dueTimesBetween, nextDueAfter, previousDue, type Cadence } from './next-due.ts'
import type { CatchUpPolicy } from './types.ts'

/** Fires one pass may make for one schedule (a schedule of 1 ms for a week of downtime is bounded). */
export const MAX_FIRES_PER_PASS = 1_000

/**
 * Which due times to fire now, for a schedule whose first unfired due time is
 * `firstDue` (<= now). More than one is due only when no runner fired the
 * schedule for a while (downtime, or a runner far behind):
 * - 'skip': the latest due time, and only if it is not older than `graceMs`
 *   (a fire a little late is still a fire; one missed is skipped);
 * - 'once': the latest due time, however old;
 * - { allWithinMs }: every due time within that window of now, oldest first
 *   (at most MAX_FIRES_PER_PASS a pass), and the latest in any case when it is within `graceMs`.
 */
export function dueTimesToFire(cadence: Cadence, firstDue: Date, now: Date, policy: CatchUpPolicy, graceMs: number): Date[] {
  const latest = latestDueAtOrBefore(cadence, firstDue, now)
  if (!latest) return []
  const age = now.getTime() - latest.getTime()
  if (policy === 'skip') return age <= graceMs ? [latest] : []
  if (policy === 'once') return [latest]
  const from = new Date(Math.max(firstDue.getTime(), now.getTime() - Math.max(policy.allWithinMs, Math.min(age, graceMs))))
  const start = from.getTime() === firstDue.getTime() ? firstDue : nextDueAfter(cadence, new Date(from.getTime() - 1), anchorOf(cadence, firstDue))
  // beyond MAX_FIRES_PER_PASS the rest waits for the next pass (next_due_at is then the first not fired)
  return start ? dueTimesBetween(cadence, start, now, MAX_FIRES_PER_PASS) : []
}

/** The schedule's next due time after this pass: the first after now, in phase with the last due time. */
export function nextDueAfterPass(cadence: Cadence, firstDue: Date, now: Date): Date | null {
  const latest = latestDueAtOrBefore(cadence, firstDue, now) ?? firstDue
  return nextDueAfter(cadence, now, anchorOf(cadence, latest))
}

function anchorOf(cadence: Cadence, due: Date): Date | undefined {
  return 'intervalMs' in cadence ? due : undefined
}

function latestDueAtOrBefore(cadence: Cadence, firstDue: Date, now: Date): Date | null {
  if (firstDue.getTime() > now.getTime()) return null
  if ('intervalMs' in cadence) {
    const steps = Math.floor((now.getTime() - firstDue.getTime()) / cadence.intervalMs)
    return new Date(firstDue.getTime() + steps * cadence.intervalMs)
  }
  // the cron time just before now+1 ms (previousRuns is exclusive), never before the first unfired one
  const before = previousDue(cadence, new Date(now.getTime() + 1))
  return before && before.getTime() >= firstDue.getTime() ? before : firstDue
}
