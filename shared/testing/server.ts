import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { ServiceApp } from '../feathers/declarations.ts'

export interface RunningApp {
  app: ServiceApp
  server: Server
  url: string
  stop(): Promise<void>
}

/** Starts an app on a free port for a test; `stop()` tears it down completely. */
export async function startApp(app: ServiceApp): Promise<RunningApp> {
  const server = await app.listen(0, '127.0.0.1' as never)
  const { port } = server.address() as AddressInfo
  let stopped = false
  return {
    app,
    server,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return
      stopped = true
      server.closeAllConnections?.()
      await app.teardown()
    }
  }
}
