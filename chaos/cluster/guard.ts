import { spawn, type ChildProcess } from 'node:child_process'

/**
 * The parent's side of orphan-guard.mjs: registers what the run started and made, so that it is
 * killed and removed however the run ends. `close()` at a normal end lets the guard finish the job.
 */
export class OrphanGuard {
  private readonly child: ChildProcess

  constructor() {
    this.child = spawn(process.execPath, [new URL('./orphan-guard.mjs', import.meta.url).pathname], { stdio: ['pipe', 'inherit', 'inherit'], detached: true })
    // the guard must outlive a Ctrl-C to the run's process group, and not keep the run alive
    this.child.unref()
  }

  killOnExit(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.send({ kill: pid, signal })
  }

  forget(pid: number): void {
    this.send({ forget: pid })
  }

  removeOnExit(dir: string): void {
    this.send({ remove: dir })
  }

  /** Ends the guard's stdin: it kills and removes what is still registered, then exits. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve())
      // unreferenced, the guard would not keep the loop alive until its exit: the run would end with code 13
      // (a top-level await that never settled) instead of its verdict's
      this.child.ref()
      this.child.stdin!.end()
    })
  }

  private send(order: object): void {
    this.child.stdin!.write(JSON.stringify(order) + '\n')
  }
}
