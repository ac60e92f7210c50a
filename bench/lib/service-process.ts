import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { HttpPool } from './http-pool.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ServiceProcess {
  name: string
  child: ChildProcess
  url: string
  stop(): Promise<void>
}

/**
 * A service (or any entry file) in a process of its own, as `npm start` runs it, quiet (LOG_LEVEL=warn); resolves
 * once GET /health on `port` answers 2xx, rejects if it exits first or is not ready within 60 s.
 */
export async function startServiceProcess(name: string, entry: string, port: number, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  // BENCH_SERVICE_NODE_ARGS: node flags for the service's process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (NODE_OPTIONS refuses --cpu-prof)
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + 60_000
  const probe = new HttpPool(url, 1)
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was ready`)
      if (await probe.send('GET', '/health').then(() => true, () => false)) return { name, child, url, stop }
      if (Date.now() > deadline) throw new Error(`${name} was not ready within 60 s`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } catch (err) {
    await stop()
    throw err
  } finally {
    probe.close()
  }
}
