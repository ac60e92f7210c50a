import type { Ajv } from '@feathersjs/schema'

/**
 * The `date-time` format as ajv-formats checks it (RFC 3339, time zone
 * required), with a fast path in front for the one shape events carry:
 * isoTimestamp()'s, `YYYY-MM-DDTHH:MM:SS.sssZ`. Every event is checked on
 * publish and again on delivery, and ajv-formats' check (a split on a regular
 * expression, two more with captures) was most of the cost of validating a
 * payload. The fast path only ever says yes, and only to strings the full
 * check accepts too (a valid day of the month, 00:00:00 to 23:59:59); any
 * other string, right or wrong, goes to the full check, so the format's
 * verdict is the same for every string.
 */
export function withFastIsoTimestamps(ajv: Ajv): Ajv {
  const full = ajv.formats['date-time']
  if (typeof full !== 'object' || full instanceof RegExp || typeof full.validate !== 'function' || full.async || full.type === 'number') return ajv
  const slow = full.validate as (value: string) => boolean
  // `compare` kept: formatMinimum and formatMaximum on dates work as before
  const compare = full.compare as ((a: string, b: string) => number | undefined) | undefined
  return ajv.addFormat('date-time', { type: 'string', validate: (value: string) => isIsoTimestamp(value) || slow(value), compare })
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, a real day, a time of day without leap second: what Date#toISOString() writes for years 0-9999. */
export function isIsoTimestamp(value: string): boolean {
  if (value.length !== 24) return false
  for (let i = 0; i < 24; i++) {
    const expected = shape.charCodeAt(i)
    const c = value.charCodeAt(i)
    if (expected === DIGIT ? c < 48 || c > 57 : c !== expected) return false
  }
  const month = twoDigits(value, 5)
  const day = twoDigits(value, 8)
  if (month < 1 || month > 12 || day < 1) return false
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2)
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > (month === 2 && leap ? 29 : daysInMonth[month]!)) return false
  return twoDigits(value, 11) <= 23 && twoDigits(value, 14) <= 59 && twoDigits(value, 17) <= 59
}

/** `#` for a digit, anything else for itself */
const shape = '####-##-##T##:##:##.###Z'
const DIGIT = '#'.charCodeAt(0)
const daysInMonth = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function twoDigits(value: string, at: number): number {
  return (value.charCodeAt(at) - 48) * 10 + (value.charCodeAt(at + 1) - 48)
}
