import { Cron } from 'croner'
import { JobError } from './errors.ts'

/** How a schedule's due times are found: a cron pattern in a zone, or a fixed interval. */
export type Cadence = { cron: string; timeZone: string } | { intervalMs: number }

/** Checks a cadence when it is declared; a bad pattern or zone is a JobError INVALID_SCHEDULE naming it. */
export function checkCadence(name: string, definition: { cron?: string; intervalMs?: number; timeZone?: string }): Cadence {
  const { cron, intervalMs, timeZone = 'UTC' } = definition
  if ((cron === undefined) === (intervalMs === undefined)) {
    throw new JobError('INVALID_SCHEDULE', `schedule "${name}": give exactly one of cron and intervalMs`)
  }
  if (intervalMs !== undefined) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new JobError('INVALID_SCHEDULE', `schedule "${name}": intervalMs must be a positive integer (got ${intervalMs})`)
    return { intervalMs }
  }
  if (!validTimeZone(timeZone)) throw new JobError('INVALID_SCHEDULE', `schedule "${name}": unknown time zone "${timeZone}"`)
  try {
    cronOf({ cron: cron!, timeZone }).nextRun(new Date(0))
  } catch (err) {
    throw new JobError('INVALID_SCHEDULE', `schedule "${name}": invalid cron "${cron}" (${(err as Error).message})`)
  }
  return { cron: cron!, timeZone }
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const crons = new Map<string, Cron>()

/** A paused croner instance used only to compute times (never to run anything: the database clock decides). */
function cronOf(cadence: { cron: string; timeZone: string }): Cron {
  const id = `${cadence.timeZone} ${cadence.cron}`
  let cron = crons.get(id)
  if (!cron) {
    cron = new Cron(cadence.cron, { timezone: cadence.timeZone, paused: true })
    crons.set(id, cron)
  }
  return cron
}

/**
 * The first due time strictly after `after`. An interval counts from `anchor`
 * (the schedule's previous due time), so its fires do not drift with lateness.
 */
export function nextDueAfter(cadence: Cadence, after: Date, anchor?: Date): Date | null {
  if ('intervalMs' in cadence) {
    const from = anchor ?? after
    if (from.getTime() > after.getTime()) return from
    const steps = Math.floor((after.getTime() - from.getTime()) / cadence.intervalMs) + 1
    return new Date(from.getTime() + steps * cadence.intervalMs)
  }
  return cronOf(cadence).nextRun(after)
}

/** Due times from `first` (included) up to `until` (included), at most `limit` of them, oldest first. */
export function dueTimesBetween(cadence: Cadence, first: Date, until: Date, limit: number): Date[] {
  const times: Date[] = []
  let due: Date | null = first
  while (due && due.getTime() <= until.getTime() && times.length < limit) {
    times.push(due)
    due = nextDueAfter(cadence, due, 'intervalMs' in cadence ? due : undefined)
  }
  return times
}

/** The last cron time strictly before `reference`. */
export function previousDue(cadence: { cron: string; timeZone: string }, reference: Date): Date | null {
  return cronOf(cadence).previousRuns(1, reference)[0] ?? null
}
