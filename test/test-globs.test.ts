import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'

/**
 * `npm test` runs the files its mocha globs match and nothing else: a test
 * file outside them is never run and never fails. This check lists every
 * `*.test.ts` of the repository and names those the globs miss.
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const skippedDirectories = new Set(['node_modules', '.git', '.chaos', 'tmp', 'scratch'])

/** Every `*.test.ts` under `dir`, as paths relative to the repository root with `/`. */
export function testFiles(dir = root, prefix = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = prefix + entry.name
    if (entry.isDirectory()) {
      if (!skippedDirectories.has(entry.name)) out.push(...testFiles(join(dir, entry.name), path + '/'))
    } else if (entry.name.endsWith('.test.ts')) out.push(path)
  }
  return out.sort()
}

/** The quoted glob arguments that the `test` script passes to mocha. */
export function testScriptGlobs(script: string): string[] {
  const mocha = script.slice(script.indexOf('mocha'))
  return [...mocha.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => m[1] ?? m[2]!)
}

/** A glob as mocha (node-glob) reads it: `**` any number of directories, `*` and `?` within one. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/'
      source += slash ? '(?:[^/]+/)*' : '.*'
      i += slash ? 2 : 1
    } else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

describe('Every test file runs in npm test', function () {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const globs = testScriptGlobs(scripts.test ?? '')

  it('reads the globs of the test script', function () {
    expect(globs, `the test script: ${scripts.test}`).to.not.be.empty
  })

  it('matches globs as mocha does', function () {
    const services = globToRegExp('services/**/*.test.ts')
    expect(services.test('services/orders/orders.test.ts')).to.equal(true)
    expect(services.test('services/gateway/test/proxy.test.ts')).to.equal(true)
    expect(services.test('services/a.test.ts')).to.equal(true)
    expect(services.test('cli/appliance/appliance.test.ts')).to.equal(false)
    expect(services.test('services/orders/orders.ts')).to.equal(false)
    expect(globToRegExp('test/*.test.ts').test('test/e2e/openapi.test.ts')).to.equal(false)
  })

  it('every *.test.ts in the repository is matched by a glob of the test script', function () {
    const files = testFiles()
    expect(files, 'this file itself is found').to.include('test/test-globs.test.ts')
    const patterns = globs.map(globToRegExp)
    const missed = files.filter((file) => !patterns.some((pattern) => pattern.test(file)))
    expect(missed, `never run by npm test (its globs: ${globs.join(' ')}); widen the globs in package.json`).to.deep.equal([])
  })

  it('names a test file that the globs would miss', function () {
    const patterns = testScriptGlobs(`mocha 'services/**/*.test.ts' 'test/**/*.test.ts'`).map(globToRegExp)
    const missed = ['cli/appliance/appliance.test.ts', 'test/docs.test.ts'].filter((file) => !patterns.some((pattern) => pattern.test(file)))
    expect(missed).to.deep.equal(['cli/appliance/appliance.test.ts'])
  })
})
