/**
 * The chaos run's fuzz phase: the REST fuzzer (test/e2e/rest-fuzz.test.ts),
 * with its own in-process stack, at a request count far above `npm test`'s.
 * Run after the fault phase, on a quiet machine: a 502 while a service is
 * being killed is expected there and would drown what the fuzzer looks for.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface FuzzResult {
  requests: number
  seconds: number
  passed: boolean
  /** mocha's last lines: the failing properties and their counterexamples */
  tail: string
}

export async function runFuzz(root: string, requests: number, say: (line: string) => void): Promise<FuzzResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bazaar-fuzz-'))
  const report = join(dir, 'fuzz.json')
  say(`fuzz: ${requests} requests against a fresh stack`)
  const started = Date.now()
  try {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--reporter', 'dot', join(root, 'test', 'e2e', 'rest-fuzz.test.ts')], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', FUZZ_REQUESTS: String(requests), FUZZ_REPORT: report },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    const sent = existsSync(report) ? (JSON.parse(readFileSync(report, 'utf8')) as { requests: number }).requests : 0
    const seconds = (Date.now() - started) / 1000
    say(`fuzz: ${sent} requests in ${seconds.toFixed(0)} s, ${code === 0 ? 'every property held' : 'FAILED'}`)
    return { requests: sent, seconds, passed: code === 0, tail: output.slice(-6000) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
