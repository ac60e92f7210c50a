import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'

/**
 * No code of ours reads or writes a dependency's private fields (pg's
 * queues, amqplib's channel internals, better-sse's, knex's or koa's): those
 * change without notice between patch releases, and the bus once depended on
 * them. The scan is deliberately simple: any member access whose name starts
 * with an underscore, by dot or by a quoted key in brackets, in any source file
 * of the project, tests included. The only names allowed are Feathers' documented
 * hook-less service methods (the database adapters' public API).
 */

/** this file spells out the forbidden accesses as samples for the scan, so it is not scanned itself */
const self = fileURLToPath(import.meta.url)
const root = join(dirname(self), '..')
const scanned = ['shared', 'services', 'cli', 'bench', 'scripts', 'chaos', 'test', 'bin']
/** directories that hold hostile input as data, not code */
const skippedDirectories = new Set(['node_modules', 'fixtures', 'results'])
const sourceFile = /\.(ts|mts|cts|js|mjs|cjs)$/

/** Feathers' adapter methods that skip hooks: documented, public, and underscored by design. */
const allowed = new Set(['_find', '_get', '_create', '_update', '_patch', '_remove'])

/** `x._name`, `x?._name`, or a quoted underscore key in brackets (with any quote). */
const privateAccess = /(?:\?\.|\.)\s*(_[A-Za-z][A-Za-z0-9_$]*)|\[\s*(['"`])(_[A-Za-z][A-Za-z0-9_$]*)\2\s*\]/g

export function privateAccesses(source: string): string[] {
  const found: string[] = []
  for (const match of source.matchAll(privateAccess)) {
    const name = match[1] ?? match[3]!
    if (!allowed.has(name)) found.push(name)
  }
  return found
}

function* sourceFiles(directory: string): Generator<string> {
  let entries
  try {
    entries = readdirSync(directory, { withFileTypes: true })
  } catch {
    return // a root this checkout does not have
  }
  for (const entry of entries) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) {
      if (!skippedDirectories.has(entry.name)) yield* sourceFiles(path)
    } else if (sourceFile.test(entry.name) && path !== self) {
      yield path
    }
  }
}

describe('no private fields of dependencies', () => {
  it('finds the kinds of access it forbids (the scan can fail)', () => {
    const hack = [
      'const state = client as unknown as { _queryable?: boolean }',
      'if (state._queryable === false) return false',
      "return client?._activeQuery || client['_sentQueryQueue'].length || channel[\"_pending\"]",
      'await users._patch(id, data)'
    ].join('\n')
    expect(privateAccesses(hack)).to.deep.equal(['_queryable', '_activeQuery', '_sentQueryQueue', '_pending'])
  })

  it('no source file of the project reads or writes an underscored member', () => {
    const offenders: string[] = []
    let files = 0
    for (const top of scanned) {
      for (const file of sourceFiles(join(root, top))) {
        files++
        const names = privateAccesses(readFileSync(file, 'utf8'))
        if (names.length > 0) offenders.push(`${relative(root, file)}: ${[...new Set(names)].join(', ')}`)
      }
    }
    expect(files, 'source files scanned').to.be.greaterThan(100)
    expect(offenders, 'underscored member access (private fields of a dependency?)').to.deep.equal([])
  })
})
