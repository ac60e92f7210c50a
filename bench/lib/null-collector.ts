import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An OTLP/HTTP endpoint that accepts everything and keeps nothing: where the
 * tracing-on bus path exports its spans, so the measure includes the SDK's
 * batching, serialisation and HTTP sends (and, being in the same process, the
 * reading of the bodies here: a slight overstatement of the cost).
 */
export class NullCollector {
  private constructor(private readonly server: Server) {}

  static async start(): Promise<NullCollector> {
    const server = createServer()
    const collector = new NullCollector(server)
    server.on('request', (req, res) => {
      let bytes = 0
      req.on('data', (chunk: Buffer) => (bytes += chunk.length))
      req.on('end', () => {
        collector.requests++
        collector.bytes += bytes
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return collector
  }

  /** OTLP export requests received, and their bytes */
  requests = 0
  bytes = 0

  get tracesUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
