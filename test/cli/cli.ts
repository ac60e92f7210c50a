import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/bazaar.js', import.meta.url))
export const fixtureDeclarations = fileURLToPath(new URL('./fixtures/topology.ts', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  namespace: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** Starts `node bin/bazaar.js ...` as an operator would, in the test's namespace. */
export function startCli(args: string[], options: CliOptions): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', BAZAAR_NAMESPACE: options.namespace, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timeoutMs = options.timeoutMs ?? 30_000
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bazaar ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, done }
}

export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done
}

/** Runs a command expected to succeed; its stdout parsed as JSON. */
export async function runJson<T = any>(args: string[], options: CliOptions): Promise<T> {
  const result = await runCli([...args, '--json'], options)
  if (result.code !== 0) throw new Error(`bazaar ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/**
 * Runs `run` over `items` with at most `limit` (default: the machine's cores) at a time, results in
 * the items' order. For CLI invocations that share nothing: each one is a node start of about a
 * second of CPU, so running them one after the other leaves the other core idle.
 */
export async function runEach<T, R>(items: T[], run: (item: T) => Promise<R>, limit = Math.max(2, availableParallelism())): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await run(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}
