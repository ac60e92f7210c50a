import { Type } from '@feathersjs/typebox'

/** Where an IANA zone name fits: `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`, `UTC`. */
const zoneName = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/

/**
 * Whether `name` is an IANA time zone this runtime knows. Intl refuses unknown zones with a RangeError;
 * the pattern first keeps out what newer Intl versions also accept but is no zone name (offsets like `+01:00`).
 */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.length > 64 || !zoneName.test(name)) return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

/** A user's time zone in events and APIs: an IANA name (checked with isTimeZone where it is written). */
export const timeZoneField = Type.String({ minLength: 1, maxLength: 64 })

/** What a user without a chosen zone is in. */
export const DEFAULT_TIME_ZONE = 'UTC'
