import type { Server } from 'node:http'
import type { ServiceApp } from './declarations.ts'
import { serve } from './serve.ts'

/**
 * Runs a service as its own process: listens, and on SIGTERM or SIGINT tears
 * down in order (stop consuming, finish in-flight work, close the publisher,
 * the connection, the database). A failure to start is one line and exit 1.
 */
export async function runService(app: ServiceApp, port: number, host = '0.0.0.0'): Promise<Server> {
  const logger = app.get('logger')
  // this app is the whole process: its /metrics also tells the process's CPU, memory and event-loop lag
  app.get('metrics').includeProcess()
  let server: Server
  try {
    server = await serve(app, port, host)
  } catch (err) {
    process.stderr.write(`${app.get('service')}: ${(err as Error).message}\n`)
    process.exit(1)
  }
  logger.info({ port }, `${app.get('service')} listening on http://127.0.0.1:${port}`)
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 20_000)
    force.unref()
    try {
      await app.teardown()
      process.exit(0)
    } catch (err) {
      logger.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  return server
}
