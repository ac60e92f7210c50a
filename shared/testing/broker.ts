import { amqpUrlList } from '../config/env.ts'

/**
 * The broker as tests and operators see it, through the management HTTP API:
 * queue depths, and cleaning up a test namespace.
 */
export interface ManagementOptions {
  /** e.g. http://guest:guest@127.0.0.1:15672 */
  url?: string
}

export function managementUrl(amqpUrl = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672'): string {
  if (process.env.RABBITMQ_MANAGEMENT_URL) return process.env.RABBITMQ_MANAGEMENT_URL
  // a cluster's AMQP_URL lists several brokers: the first one's management API
  const amqp = new URL(amqpUrlList(amqpUrl)[0]!)
  const user = decodeURIComponent(amqp.username || 'guest')
  const pass = decodeURIComponent(amqp.password || 'guest')
  return `http://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${amqp.hostname}:15672`
}

export class Management {
  private readonly base: URL
  private readonly auth: string

  constructor(url = managementUrl()) {
    const parsed = new URL(url)
    this.auth = 'Basic ' + Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')
    parsed.username = ''
    parsed.password = ''
    this.base = parsed
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.base), {
      method,
      headers: { authorization: this.auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    if (!response.ok && response.status !== 404) {
      throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`)
    }
    if (response.status === 204 || response.status === 404) return undefined as T
    const text = await response.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  queues(prefix: string): Promise<Array<{ name: string; type: string; messages: number; consumers: number; messages_unacknowledged: number; arguments: Record<string, unknown> }>> {
    return this.request<any[]>('GET', `/api/queues/%2F?columns=name,type,messages,consumers,messages_unacknowledged,arguments,messages_ready`).then(
      (all) => (all ?? []).filter((q) => q.name.startsWith(`${prefix}.`))
    )
  }

  queue(name: string): Promise<{ name: string; messages: number; consumers: number; messages_unacknowledged: number } | undefined> {
    return this.request('GET', `/api/queues/%2F/${encodeURIComponent(name)}`)
  }

  /** Deletes every queue and exchange of a namespace. */
  deleteNamespace(namespace: string): Promise<number> {
    return this.deleteWhere((name) => name.startsWith(`${namespace}.`))
  }

  /** Deletes every queue and exchange whose name starts with one of the namespaces; answers how many. */
  deleteNamespaces(namespaces: Iterable<string>): Promise<number> {
    const prefixes = [...namespaces].map((ns) => `${ns}.`)
    return prefixes.length ? this.deleteWhere((name) => prefixes.some((p) => name.startsWith(p))) : Promise.resolve(0)
  }

  /** Deletes every queue and exchange whose name matches; answers how many. */
  async deleteWhere(matches: (name: string) => boolean): Promise<number> {
    let deleted = 0
    for (const kind of ['queues', 'exchanges'] as const) {
      const all = await this.request<Array<{ name: string }>>('GET', `/api/${kind}/%2F?columns=name`)
      for (const { name } of all ?? []) {
        if (!matches(name)) continue
        await this.request('DELETE', `/api/${kind}/%2F/${encodeURIComponent(name)}`)
        deleted++
      }
    }
    return deleted
  }
}
