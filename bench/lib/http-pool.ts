import { Agent, request } from 'node:http'

/**
 * JSON over a bounded pool of keep-alive connections (node:http's Agent).
 * Requests beyond `connections` wait in the agent's queue, in this process,
 * instead of each opening a socket of its own: fetch's global dispatcher has
 * no per-origin limit, and a generator running ahead of a server then opens
 * thousands of connections, overflows the listen backlog (511) and has them
 * reset (ECONNRESET) or timed out by the kernel.
 */
export class HttpPool {
  private readonly agent: Agent
  private readonly url: URL

  constructor(baseUrl: string, connections: number) {
    this.url = new URL(baseUrl)
    // keep-alive sockets are reused while busy; one left idle longer than the server's keepAliveTimeout (5 s) is closed by the agent first
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, timeout: 4_000 })
  }

  /** Resolves with the status and the body's text; rejects on a network error or a status outside 2xx. */
  send(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; text: string }> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (payload !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(payload))
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`
    return new Promise((resolve, reject) => {
      const req = request({ host: this.url.hostname, port: this.url.port, path, method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          const text = Buffer.concat(chunks).toString()
          if (status >= 200 && status < 300) resolve({ status, text })
          else reject(new Error(`${method} ${path}: status ${status} ${text.slice(0, 200)}`))
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(payload)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}
