import { EventEmitter } from 'node:events'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import { ChannelSlot } from './channel-slot.ts'
import type { BusConnection } from './connection.ts'
import type { Consumer } from './consumer.ts'
import { names } from './names.ts'
import type { ExchangeSpec } from './topology.ts'

/** An operator's command to the running consumers of a namespace. */
export interface ControlCommand {
  command: 'skip'
  /** the consuming queue, e.g. `bazaar.orders.payments` */
  queue: string
}

/** What a process did with a command: `applied` is false when none of its consumers could act on it. */
export interface ControlOutcome extends ControlCommand {
  applied: boolean
}

export const controlExchangeSpec = (namespace: string): ExchangeSpec => ({ name: names.controlExchange(namespace), type: 'fanout' })

/**
 * Sends a command to every running process of the namespace (the CLI's
 * `consumer skip`). Fanout: each process hears it, and only the one consuming
 * the named queue acts on it.
 */
export async function sendControl(channel: Channel, namespace: string, command: ControlCommand): Promise<void> {
  const exchange = controlExchangeSpec(namespace)
  await channel.assertExchange(exchange.name, exchange.type, { durable: true })
  channel.publish(exchange.name, '', Buffer.from(JSON.stringify(command)), { contentType: 'application/json', persistent: false })
  if ('waitForConfirms' in channel) await (channel as Channel & { waitForConfirms(): Promise<void> }).waitForConfirms()
}

/**
 * Hears operator commands for this process's consumers: a server-named,
 * exclusive queue bound to the namespace's control exchange, which lives
 * exactly as long as this connection (commands are for processes running now;
 * one that starts later has nothing stuck to skip). Declared again, under a
 * new name, after every reconnect.
 */
export class ControlListener extends EventEmitter<{ command: [outcome: ControlOutcome] }> {
  readonly label = 'control'
  private readonly slot: ChannelSlot

  constructor(
    connection: BusConnection,
    private readonly namespace: string,
    private readonly consumers: () => Consumer[],
    private readonly logger?: Logger
  ) {
    super()
    this.slot = new ChannelSlot(connection, { label: this.label, mode: 'plain', logger, setup: (channel) => this.listen(channel) })
  }

  async start(): Promise<void> {
    await this.slot.start()
  }

  private async listen(channel: Channel): Promise<void> {
    const exchange = controlExchangeSpec(this.namespace)
    await channel.assertExchange(exchange.name, exchange.type, { durable: true })
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false })
    await channel.bindQueue(queue, exchange.name, '')
    // No acks: a command is acted on at once or not at all, and the queue dies with the connection anyway.
    await channel.consume(queue, (message) => message && this.handle(message), { noAck: true })
  }

  async stop(): Promise<void> {
    await this.slot.stop()
  }

  private handle(message: ConsumeMessage): void {
    const command = parseCommand(message.content)
    if (!command) {
      this.logger?.warn({ body: message.content.toString('utf8').slice(0, 200) }, 'ignored an unknown control message')
      return
    }
    const consumer = this.consumers().find((c) => c.queue === command.queue)
    if (!consumer) return // another process's queue
    const applied = consumer.skipCurrent()
    if (applied) this.logger?.warn({ queue: command.queue }, 'operator skipped the message being retried')
    else this.logger?.info({ queue: command.queue }, 'skip requested, but no message is being retried')
    const outcome: ControlOutcome = { ...command, applied }
    this.emit('command', outcome)
  }
}

function parseCommand(body: Buffer): ControlCommand | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<ControlCommand>
    if (value?.command === 'skip' && typeof value.queue === 'string') return { command: 'skip', queue: value.queue }
  } catch {
    // not JSON: reported by the caller
  }
  return undefined
}
