import { randomBytes } from 'node:crypto'

/**
 * A namespace no other test run uses: exchanges, queues and database schemas of
 * one test file carry it, so files run in any order and twice in a row.
 */
export function uniqueNamespace(tag: string): string {
  const clean = tag.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 16)
  return `t_${clean}_${randomBytes(3).toString('hex')}`
}
