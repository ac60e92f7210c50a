import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { ServiceApp } from '../feathers/declarations.ts'
import { serve } from '../feathers/serve.ts'

export interface RunningApp {
  app: ServiceApp
  server: Server
  url: string
  stop(): Promise<void>
}

/** Starts an app on a free port (or the given one, e.g. to restart it where clients expect it); `stop()` tears it down completely. */
export async function startApp(app: ServiceApp, port = 0): Promise<RunningApp> {
  const server = await serve(app, port, '127.0.0.1')
  const { port: bound } = server.address() as AddressInfo
  let stopped = false
  return {
    app,
    server,
    url: `http://127.0.0.1:${bound}`,
    async stop() {
      if (stopped) return
      stopped = true
      server.closeAllConnections?.()
      await app.teardown()
    }
  }
}
