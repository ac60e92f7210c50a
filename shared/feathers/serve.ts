import { createServer, type Server } from 'node:http'
import type { ServiceApp } from './declarations.ts'

/**
 * Listens on `port` and sets the app up on that server, the way Feathers
 * documents for a server created by hand (`app.setup(server)`): the server's
 * one request listener is Koa's `app.callback()`, or what the app's
 * `requestListener` setting builds around it (the gateway puts CORS and its
 * SSE endpoint in front). Built here, after every middleware is registered,
 * since Koa composes its middleware when `callback()` is called.
 */
export async function serve(app: ServiceApp, port: number, host?: string): Promise<Server> {
  const koa = app.callback()
  const server = createServer(app.get('requestListener')?.(koa) ?? koa)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  try {
    await app.setup(server)
  } catch (err) {
    server.close()
    throw err
  }
  return server
}
