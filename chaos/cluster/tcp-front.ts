/**
 * A TCP front for the cluster chaos profile: one listening port in front of a list of upstream ports.
 * Each new connection goes to the next upstream in turn (round robin); one that refuses is skipped
 * for the next, so a killed instance costs no request that had not reached it. What it stands in for:
 * a Kubernetes Service in front of a Deployment's pods, and for PostgreSQL, CloudNativePG's `-rw`
 * Service, which follows the primary: `switchTo()` at promotion, cutting connections to the old one.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class TcpFront {
  private server?: Server
  private next = 0
  private readonly open = new Set<Socket>()

  constructor(readonly name: string, readonly port: number, private upstreams: number[]) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client))
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.port, '127.0.0.1', () => resolve())
    })
  }

  /** Points new connections at other upstreams and closes the ones open (they lead to the old). */
  switchTo(upstreams: number[]): void {
    this.upstreams = upstreams
    for (const socket of this.open) socket.destroy()
    this.open.clear()
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy()
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)))
  }

  private accept(client: Socket): void {
    client.pause()
    client.on('error', () => client.destroy())
    this.open.add(client)
    client.once('close', () => this.open.delete(client))
    this.connect(client, this.upstreams.length)
  }

  /** Tries the next upstream; on a refusal the one after it, until each has been tried once. */
  private connect(client: Socket, triesLeft: number): void {
    if (triesLeft === 0 || client.destroyed) {
      client.destroy()
      return
    }
    const port = this.upstreams[this.next++ % this.upstreams.length]!
    const upstream = createConnection({ port, host: '127.0.0.1' })
    let connected = false
    upstream.once('connect', () => {
      connected = true
      this.open.add(upstream)
      upstream.once('close', () => {
        this.open.delete(upstream)
        client.destroy()
      })
      client.once('close', () => upstream.destroy())
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.on('error', () => {
      if (!connected) this.connect(client, triesLeft - 1)
      else client.destroy()
    })
  }
}
