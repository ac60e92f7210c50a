import { expect } from 'chai'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const projectDirs = ['shared', 'services', 'cli', 'scripts', 'bench', 'test']

function sourceFiles(dir: string): string[] {
  const files: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path)
  }
  return files
}

/**
 * Relative specifiers a file imports or re-exports, type-only ones included
 * (a cycle of types is still two files that cannot be read one without the other).
 * Comments are dropped first so that an example in a doc comment is not an import.
 */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const specifiers: string[] = []
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g]
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) specifiers.push(match[1]!)
  return specifiers
}

/** Every cycle of the graph, each once, as the files on it in import order (Tarjan's strongly connected components). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (node: string) => {
    indices.set(node, index)
    low.set(node, index++)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!))
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component.reverse())
    }
  }
  for (const node of graph.keys()) if (!indices.has(node)) visit(node)
  return components
}

function projectGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of projectDirs.flatMap((dir) => sourceFiles(join(root, dir)))) {
    const targets = relativeImports(readFileSync(file, 'utf8')).map((specifier) => relative(root, resolve(dirname(file), specifier)))
    graph.set(relative(root, file), targets)
  }
  return graph
}

describe('imports between project files', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']]
    ])
    expect(cycles(graph)).to.deep.equal([['a.ts', 'b.ts', 'c.ts']])
    expect(relativeImports(`import type { X } from './x.ts'\nexport * from "../y.ts"\nconst z = await import('./z.ts')\n// import { no } from './comment.ts'`)).to.deep.equal([
      './x.ts',
      '../y.ts',
      './z.ts'
    ])
  })

  it('form no cycle: every file can be read without the files that import it', () => {
    const graph = projectGraph()
    expect(graph.size).to.be.greaterThan(100)
    expect(cycles(graph).map((cycle) => cycle.join(' -> '))).to.deep.equal([])
  })
})
