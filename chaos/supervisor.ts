import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '../shared/testing/wait.ts'

const exitWithParent = new URL('./exit-with-parent.mjs', import.meta.url).href

export interface ProcessSpec {
  name: string
  /** argv after `node` */
  args: string[]
  env: NodeJS.ProcessEnv
  /** 200 here means ready */
  healthUrl?: string
  /** how long a start may take to be healthy (default 90 s) */
  healthTimeoutMs?: number
  /**
   * start the process again when it exits by itself, as a pod's `restartPolicy: Always` does (the cluster
   * profile); each such exit is counted in `crashes` and its log's tail kept in `crashLines`
   */
  restartOnCrash?: boolean
  logDir: string
}

/**
 * One child process the chaos run can kill and bring back: its output goes to
 * a log file per name, so a failed run can be read afterwards.
 */
export class Supervised {
  private child?: ChildProcess
  private log: WriteStream
  starts = 0
  crashes = 0
  /** the last lines the process wrote before each crash (restartOnCrash) */
  readonly crashLines: string[] = []
  /** set while kill() takes the process down: that exit is not a crash */
  private stopping = false
  private recent: string[] = []

  constructor(readonly spec: ProcessSpec) {
    mkdirSync(spec.logDir, { recursive: true })
    this.log = createWriteStream(join(spec.logDir, `${spec.name}.log`), { flags: 'a' })
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start(): Promise<void> {
    this.starts += 1
    // stdin is a pipe only this supervisor writes to: when it dies, the child sees stdin end and stops
    const args = ['--import', exitWithParent, ...this.spec.args]
    const child = spawn(process.execPath, args, { env: this.spec.env, stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdout!.pipe(this.log, { end: false })
    child.stderr!.pipe(this.log, { end: false })
    this.child = child
    if (this.spec.restartOnCrash) this.restartWhenCrashed(child)
    if (this.spec.healthUrl) await this.waitHealthy(this.spec.healthTimeoutMs)
  }

  private restartWhenCrashed(child: ChildProcess): void {
    this.recent = []
    child.stderr!.on('data', (chunk: Buffer) => { this.recent = [...this.recent, ...chunk.toString().split('\n').filter(Boolean)].slice(-5) })
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return
      this.crashes += 1
      this.crashLines.push(`${this.spec.name} exited (${code ?? signal}): ${this.recent.join(' | ').slice(0, 400)}`)
      this.log.write(`[supervisor] ${this.spec.name} exited by itself (${code ?? signal}); starting it again\n`)
      setTimeout(() => { if (!this.stopping && this.child === child) this.start().catch(() => {}) }, 1_000).unref()
    })
  }

  async waitHealthy(timeoutMs = 90_000): Promise<void> {
    const url = this.spec.healthUrl!
    await waitFor(async () => {
      if (!this.running) throw new Error(`${this.spec.name} exited (${this.child?.exitCode ?? this.child?.signalCode})`)
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      return response.status === 200
    }, { timeoutMs, intervalMs: 250, what: `${this.spec.name} to be healthy at ${url}` })
  }

  /** Sends a signal and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    const child = this.child
    if (!child || !this.running) {
      this.child = undefined // a crashed process's pending restart (restartOnCrash) is called off
      return
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.stopping = true
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
    this.stopping = false
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal)
    await this.start()
  }

  close(): void {
    this.log.end()
  }
}
