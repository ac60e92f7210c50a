/**
 * The brokers a connection may use, in order, and which one it tries now: the
 * host list of rascal (`connection.urls`) and rabbitmq-client (`hosts`). A
 * connection starts at the first; when an attempt fails, or a live connection
 * drops (its node killed, partitioned or shutting down), it moves on to the
 * next, wrapping around, so a cluster node that is gone costs one attempt.
 *
 * amqplib's recovering connection takes one URL, but it accepts an object in
 * place of the string and reads it again at every attempt: `target` is that
 * object, rewritten in place by `advance()`.
 */
export interface AmqpTarget {
  protocol: string
  hostname: string
  port: number
  username: string
  password: string
  vhost: string
  heartbeat: number
  frameMax?: number
  channelMax?: number
  locale?: string
}

export class HostRotation {
  readonly target: AmqpTarget
  private index = 0

  constructor(readonly urls: readonly string[], private readonly heartbeat: number) {
    if (urls.length === 0) throw new Error('a broker connection needs at least one URL')
    this.target = toTarget(urls[0]!, heartbeat)
  }

  /** the URL the next attempt uses */
  get current(): string {
    return this.urls[this.index]!
  }

  /** Points the next attempt at the following URL of the list (the first after the last); returns it. */
  advance(): string {
    this.index = (this.index + 1) % this.urls.length
    Object.assign(this.target, toTarget(this.current, this.heartbeat))
    return this.current
  }
}

/** The URL as amqplib's object form; what its string parser would read (credentials, vhost, query) read the same. */
export function toTarget(url: string, heartbeat: number): AmqpTarget {
  const parsed = new URL(url)
  const protocol = parsed.protocol.replace(/:$/, '')
  if (protocol !== 'amqp' && protocol !== 'amqps') throw new Error(`expected an amqp:// or amqps:// URL (got ${protocol}:)`)
  const number = (name: string) => (parsed.searchParams.has(name) ? Number(parsed.searchParams.get(name)) : undefined)
  return {
    protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port) || (protocol === 'amqp' ? 5672 : 5671),
    // amqplib's string form defaults to guest/guest only when both are missing, as here
    username: parsed.username || parsed.password ? decodeURIComponent(parsed.username) : 'guest',
    password: parsed.username || parsed.password ? decodeURIComponent(parsed.password) : 'guest',
    // the object form takes the vhost escaped, as the URL's path carries it ('/' is %2F)
    vhost: parsed.pathname.length > 1 ? parsed.pathname.slice(1) : '/',
    heartbeat,
    frameMax: number('frameMax'),
    channelMax: number('channelMax'),
    locale: parsed.searchParams.get('locale') ?? undefined
  }
}
