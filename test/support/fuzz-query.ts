/**
 * Helpers for fuzzing Feathers queries: encode a nested query the way Feathers'
 * REST clients do (`total[$gt]=5&$select[]=id`), and evaluate one on a record
 * as the caller sees it, to check that what a filter matched is what it says.
 */
export type Query = Record<string, unknown>

/** qs-style bracket encoding, `a[b]` and `a[0]` (what @feathersjs/rest-client's qs.stringify sends). */
export function encodeQuery(query: Query): string {
  const parts: string[] = []
  const walk = (prefix: string, value: unknown) => {
    if (Array.isArray(value)) value.forEach((item, i) => walk(`${prefix}[${i}]`, item))
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(`${prefix}[${k}]`, v)
    else parts.push(`${encodeURIComponent(prefix).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(String(value))}`)
  }
  for (const [key, value] of Object.entries(query)) walk(key, value)
  return parts.join('&')
}

const compare = (a: unknown, b: unknown): number => {
  const x = typeof a === 'number' ? a : Number.isFinite(Number(a)) && typeof b === 'number' ? Number(a) : String(a)
  const y = typeof x === 'number' ? Number(b) : String(b)
  return x < y ? -1 : x > y ? 1 : 0
}
const same = (a: unknown, b: unknown) => compare(a, b) === 0

/**
 * Whether `record` satisfies the filter part of a Feathers query (fields,
 * $in, $nin, $lt, $lte, $gt, $gte, $ne, $or, $and; $like/$ilike left out).
 * Values arrive as strings in a query string, so numbers compare as numbers.
 */
export function satisfies(record: Record<string, unknown>, query: Query): boolean {
  for (const [key, condition] of Object.entries(query)) {
    if (key === '$or') {
      if (!(condition as Query[]).some((q) => satisfies(record, q))) return false
    } else if (key === '$and') {
      if (!(condition as Query[]).every((q) => satisfies(record, q))) return false
    } else if (key.startsWith('$')) {
      continue // $limit, $skip, $sort, $select: not filters
    } else if (condition !== null && typeof condition === 'object' && !Array.isArray(condition)) {
      const value = record[key]
      for (const [op, operand] of Object.entries(condition)) {
        const ok =
          op === '$in' ? (operand as unknown[]).some((o) => same(value, o))
          : op === '$nin' ? !(operand as unknown[]).some((o) => same(value, o))
          : op === '$lt' ? compare(value, operand) < 0
          : op === '$lte' ? compare(value, operand) <= 0
          : op === '$gt' ? compare(value, operand) > 0
          : op === '$gte' ? compare(value, operand) >= 0
          : op === '$ne' ? !same(value, operand)
          : true
        if (!ok) return false
      }
    } else if (!same(record[key], condition)) return false
  }
  return true
}
