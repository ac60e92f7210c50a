/**
 * What the bus tests share: a bus per test service, raw amqplib access for
 * publishing what the bus never would, reading dead letters, forcing a
 * connection closed, and a schema with the outbox and inbox tables.
 */
import { randomUUID } from 'node:crypto'
import amqp from 'amqplib'
import type { Channel, ChannelModel, GetMessage } from 'amqplib'
import knex, { type Knex } from 'knex'
import { Bus, type BusOptions } from '../../shared/bus/bus.ts'
import { busMigrations } from '../../shared/bus/outbox-table.ts'
import type { Consumer } from '../../shared/bus/consumer.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { names } from '../../shared/bus/names.ts'
import { USER_REGISTERED, type UserRegistered, type UserUpdated } from '../../shared/contracts/user.ts'
import { readEnv } from '../../shared/config/env.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { schemaName } from '../../shared/db/database.ts'
import { Management, dropNamespaceSchemas, waitFor } from '../../shared/testing/index.ts'

export const env = readEnv()

/** A started bus for one (test) service of the namespace; stopped by the caller in `after`. */
export async function startBus(namespace: string, service: string, options: Partial<BusOptions> = {}): Promise<Bus> {
  const bus = new Bus({ url: env.amqpUrl, namespace, service, ...options })
  await bus.start()
  return bus
}

export function registered(overrides: Partial<UserRegistered> = {}): UserRegistered {
  const userId = randomUUID()
  return { userId, email: `${userId.slice(0, 8)}@example.com`, name: 'Ada', role: 'buyer', registeredAt: new Date().toISOString(), ...overrides }
}

export function updated(overrides: Partial<UserUpdated> = {}): UserUpdated {
  const userId = randomUUID()
  return {
    userId, email: `${userId.slice(0, 8)}@example.com`, name: 'Ada', role: 'buyer', changes: ['name'], updatedAt: new Date().toISOString(), ...overrides
  }
}

/** A plain amqplib connection, outside the bus: publishes what the bus would refuse to, reads queues directly. */
export class RawBroker {
  private constructor(readonly model: ChannelModel, readonly channel: Channel) {}

  static async open(): Promise<RawBroker> {
    const model = await amqp.connect(env.amqpUrl)
    model.on('error', () => {})
    const channel = await model.createConfirmChannel()
    return new RawBroker(model, channel)
  }

  /** Publishes bytes to the namespace's events exchange and waits for the broker's confirm. */
  async publishEvent(namespace: string, routingKey: string, body: Buffer | string, properties: amqp.Options.Publish = {}) {
    this.channel.publish(names.eventsExchange(namespace), routingKey, Buffer.from(body), { messageId: randomUUID(), ...properties })
    await (this.channel as amqp.ConfirmChannel).waitForConfirms()
  }

  /** Takes every message now in a queue (acking them), in order. */
  async drain(queue: string): Promise<GetMessage[]> {
    const taken: GetMessage[] = []
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true })
      if (!message) return taken
      taken.push(message)
    }
  }

  /** Waits until a queue holds `count` messages and returns them (acked). */
  async takeExactly(queue: string, count: number, timeoutMs = 10_000): Promise<GetMessage[]> {
    const taken: GetMessage[] = []
    await waitFor(async () => {
      taken.push(...(await this.drain(queue)))
      return taken.length >= count
    }, { timeoutMs, what: `${count} message(s) in ${queue}` })
    return taken
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => {})
  }
}

interface ConnectionInfo { name: string; client_properties?: { connection_name?: string } }

/** The broker's names of the connections a client opened under `connectionName`, once the broker lists one. */
export async function brokerConnections(connectionName: string, management = new Management()): Promise<string[]> {
  return waitFor(async () => {
    const all = await management.request<ConnectionInfo[]>('GET', '/api/connections?columns=name,client_properties')
    const found = (all ?? []).filter((c) => c.client_properties?.connection_name === connectionName).map((c) => c.name)
    return found.length > 0 ? found : undefined
  }, { timeoutMs: 15_000, intervalMs: 100, what: `connection ${connectionName} listed by the broker` })
}

/**
 * Closes, on the broker's side, every connection with the given client name
 * (or the broker's names of them, looked up beforehand), as a network failure
 * or an operator would.
 */
export async function forceCloseConnection(connection: string | string[], management = new Management()): Promise<void> {
  const brokerNames = typeof connection === 'string' ? await brokerConnections(connection, management) : connection
  for (const name of brokerNames) await management.request('DELETE', `/api/connections/${encodeURIComponent(name)}`)
}

/** A knex pool on one schema of the namespace, with the bus's outbox and inbox tables migrated. */
export async function busSchema(namespace: string, service: string): Promise<{ db: Knex; schema: string }> {
  const schema = schemaName(namespace, service)
  const db = knex({ client: 'pg', connection: env.databaseUrl, searchPath: [schema, 'public'], pool: { min: 0, max: 10 } })
  await migrate(db, schema, busMigrations)
  return { db, schema }
}

export const headerOf = (message: GetMessage, name: string) => (message.properties.headers ?? {})[name] as unknown

type Closable = { stop(): Promise<void> } | { close(): Promise<void> } | { destroy(): Promise<void> } | undefined

/**
 * A test file's `after`: stops and closes what it opened (in the order given:
 * consumers' buses before producers'), then removes the namespace from the
 * broker and the database.
 */
export async function cleanUp(namespace: string, ...opened: Closable[]): Promise<void> {
  for (const thing of opened) {
    if (!thing) continue
    if ('stop' in thing) await thing.stop()
    else if ('close' in thing) await thing.close()
    else await thing.destroy()
  }
  await new Management().deleteNamespace(namespace)
  await dropNamespaceSchemas(namespace)
}

export interface InboxConsumer {
  db: Knex
  schema: string
  bus: Bus
  consumer: Consumer
  /** distinct messages whose effect committed, as the inbox records them */
  processed(): Promise<number>
}

/**
 * A service with its schema, its bus and one idempotent consumer of
 * `user.registered` running `effect`: what tests of loss (recovery, shutdown)
 * count messages with, since the inbox holds each message id once.
 */
export async function inboxConsumer(
  namespace: string,
  service: string,
  options: { purpose: string; prefetch?: number; effect: () => Promise<void>; bus?: Partial<BusOptions> }
): Promise<InboxConsumer> {
  const { db, schema } = await busSchema(namespace, service)
  const bus = await startBus(namespace, service, options.bus)
  const consumer = bus.consumer({
    service, purpose: options.purpose, bindings: [USER_REGISTERED], prefetch: options.prefetch,
    handlers: { [USER_REGISTERED]: idempotent({ db, schema, consumer: options.purpose }, options.effect) }
  })
  await bus.startConsumers()
  const processed = async () =>
    Number((await db.withSchema(schema).table('inbox').where({ consumer: options.purpose }).countDistinct({ n: 'message_id' }))[0]!.n)
  return { db, schema, bus, consumer, processed }
}

/** Publishes `count` user.registered events, `batch` at a time, each confirmed. */
export async function publishUsers(bus: Bus, count: number, batch = 100): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => bus.publisher.publish(USER_REGISTERED, registered())))
  }
}
