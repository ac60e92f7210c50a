/**
 * A time as the API writes it: ISO 8601 in UTC with milliseconds
 * (`2026-01-31T09:30:00.000Z`), whether it comes as a Date, a timestamp string
 * from the database or epoch milliseconds; now when none is given.
 */
export function isoTimestamp(value: Date | string | number = new Date()): string {
  return new Date(value).toISOString()
}

/** Property resolver: a Date from the database leaves as isoTimestamp() writes it; anything else as it is. */
export const timestampField = async <V>(value: V): Promise<V> => (value instanceof Date ? isoTimestamp(value) : value) as V
