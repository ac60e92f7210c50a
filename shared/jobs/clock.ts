import { performance } from 'node:perf_hooks'
import type pg from 'pg'

/** How long a reading is trusted (clocks drift; a better reading replaces it sooner). */
const READING_TTL_MS = 30_000

/** This process's clock, in epoch milliseconds, monotonic (performance), so a wall-clock step does not move a wait. */
export const localNow = () => performance.timeOrigin + performance.now()

/**
 * The database clock as seen from this process, to wait for a claimed row's
 * due time without asking the database again. Which rows are due is decided
 * by the database (the claim); this only times the last few hundred
 * milliseconds. A reading `d` taken by a statement sent at local `s` and
 * answered at `r` happened somewhere in [s, r]: the database reads T at local
 * T - d + r at the latest. Using that latest bound, a handler never starts
 * before its due time by the database clock; the reading with the shortest
 * round trip is kept, so the bound is tight (well under a millisecond when the
 * database is not busy).
 */
export class DatabaseClock {
  private best?: { dbMs: number; receivedAt: number; roundTripMs: number }

  async read(client: pg.Client | pg.PoolClient): Promise<void> {
    const sentAt = localNow()
    const { rows } = await client.query<{ ms: string }>('select extract(epoch from clock_timestamp()) * 1000 as ms')
    const receivedAt = localNow()
    const reading = { dbMs: Number(rows[0]!.ms), receivedAt, roundTripMs: receivedAt - sentAt }
    const best = this.best
    if (!best || reading.roundTripMs <= best.roundTripMs || receivedAt - best.receivedAt > READING_TTL_MS) this.best = reading
  }

  /** The local time (localNow()) at which the database clock reads `dbMs`, at the latest; undefined before a reading. */
  localTimeOf(dbMs: number): number | undefined {
    const best = this.best
    return best ? dbMs - best.dbMs + best.receivedAt : undefined
  }
}
