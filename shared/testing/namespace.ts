import { randomBytes } from 'node:crypto'

/** Namespaces made in this process, by the test file that asked (see test/support/broker-hygiene.ts). */
export const namespacesByFile = new Map<string, string[]>()

/**
 * A namespace no other test run uses: exchanges, queues and database schemas of
 * one test file carry it, so files run in any order and twice in a row.
 */
export function uniqueNamespace(tag: string): string {
  const clean = tag.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 16)
  const namespace = `t_${clean}_${randomBytes(3).toString('hex')}`
  const file = callingTestFile()
  namespacesByFile.set(file, [...(namespacesByFile.get(file) ?? []), namespace])
  return namespace
}

/** The `*.test.ts` file on the current stack (a fixture in a support file is called from one). */
function callingTestFile(): string {
  const frame = new Error().stack?.split('\n').find((line) => /\.test\.ts\b/.test(line))
  const path = frame?.match(/(?:file:\/\/)?(\/[^:()]+\.test\.ts)/)?.[1]
  return path ?? 'unknown'
}
