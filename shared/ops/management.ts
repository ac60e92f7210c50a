import { redactUrl } from '../config/env.ts'
import { OpsError } from './errors.ts'

export interface BrokerQueue {
  name: string
  durable: boolean
  type?: string
  arguments: Record<string, unknown>
  messages?: number
  messages_ready?: number
  messages_unacknowledged?: number
  consumers?: number
  /** rates over the broker's sampling window, messages per second */
  message_stats?: {
    publish_details?: { rate?: number }
    deliver_get_details?: { rate?: number }
    ack_details?: { rate?: number }
  }
}

export interface BrokerExchange {
  name: string
  type: string
  durable: boolean
  arguments: Record<string, unknown>
}

export interface BrokerBinding {
  source: string
  destination: string
  destination_type: 'queue' | 'exchange'
  routing_key: string
}

/**
 * The RabbitMQ management HTTP API, read-only, limited to one namespace. Counts
 * it reports are refreshed on the broker's statistics interval (seconds), so
 * exact depths come from AMQP instead (see Broker.inspect).
 */
export class ManagementClient {
  private readonly base: URL
  private readonly auth: string

  constructor(
    url: string,
    private readonly vhost = '/'
  ) {
    const parsed = new URL(url)
    this.auth = 'Basic ' + Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')
    parsed.username = ''
    parsed.password = ''
    this.base = parsed
  }

  async queues(namespace: string): Promise<BrokerQueue[]> {
    const all = await this.get<BrokerQueue[]>(`/api/queues/${this.vh}?columns=name,durable,type,arguments,messages,messages_ready,messages_unacknowledged,consumers,message_stats.publish_details.rate,message_stats.deliver_get_details.rate,message_stats.ack_details.rate`)
    return all.filter((q) => q.name.startsWith(`${namespace}.`))
  }

  async exchanges(namespace: string): Promise<BrokerExchange[]> {
    const all = await this.get<BrokerExchange[]>(`/api/exchanges/${this.vh}?columns=name,type,durable,arguments`)
    return all.filter((e) => e.name.startsWith(`${namespace}.`))
  }

  async bindings(namespace: string): Promise<BrokerBinding[]> {
    const all = await this.get<BrokerBinding[]>(`/api/bindings/${this.vh}`)
    // Exchange destinations too: a partitioned consumer's events exchange binds to its partition exchange.
    return all.filter((b) => b.source.startsWith(`${namespace}.`) && (b.destination_type === 'queue' || b.destination_type === 'exchange'))
  }

  private get vh(): string {
    return encodeURIComponent(this.vhost)
  }

  private async get<T>(path: string): Promise<T> {
    const where = redactUrl(this.base.toString())
    let response: Response
    try {
      response = await fetch(new URL(path, this.base), {
        headers: { authorization: this.auth },
        signal: AbortSignal.timeout(15_000)
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
      throw new OpsError(
        `cannot reach the RabbitMQ management API at ${where} (${cause}); enable rabbitmq_management or set RABBITMQ_MANAGEMENT_URL`
      )
    }
    if (response.status === 401) throw new OpsError(`the RabbitMQ management API at ${where} refused the credentials`)
    if (!response.ok) throw new OpsError(`RabbitMQ management API ${path.split('?')[0]} answered ${response.status}`)
    return (await response.json()) as T
  }
}

/** The management API on the broker's host, port 15672, with the AMQP URL's credentials. */
export function defaultManagementUrl(amqpUrl: string): string {
  const amqp = new URL(amqpUrl)
  const url = new URL(`http://${amqp.hostname}:15672`)
  url.username = amqp.username || 'guest'
  url.password = amqp.password || 'guest'
  return url.toString()
}
