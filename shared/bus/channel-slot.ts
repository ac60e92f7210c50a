import { EventEmitter } from 'node:events'
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib'
import type { Logger } from '../log/logger.ts'
import type { BusConnection, ConnectionParticipant } from './connection.ts'

export enum SlotState {
  /** not started, or stopped */
  Idle = 'idle',
  /** a channel is being opened and its topology declared */
  Opening = 'opening',
  Open = 'open',
  /** the channel closed under us; another one is on its way (same connection after a backoff, or the next one) */
  Lost = 'lost'
}

export interface ChannelSlotEvents<C extends Channel> {
  /** a channel is open and set up: its topology declared, its consumer (if any) started */
  open: [channel: C]
  /** the open channel closed without being asked to (channel error, lost connection) */
  lost: [channel: C]
}

export interface ChannelSlotSpec<C extends Channel> {
  /** shown in logs and the connection's setup errors */
  label: string
  /** `confirm` for a publisher's channel */
  mode: 'plain' | 'confirm'
  /**
   * Sets up a fresh channel: declare the topology, set the prefetch, start
   * consuming. Runs on every channel the slot opens, so whatever the broker
   * forgot (an exclusive queue that died with its connection) is declared again.
   */
  setup(channel: C): Promise<void>
  /** listeners the owner wants on each channel before its setup runs (e.g. a publisher's 'return') */
  prepare?(channel: C): void
  logger?: Logger
}

/**
 * The one channel a bus participant (publisher, consumer, control listener,
 * live feed) works on: opened on the shared connection, watched, and replaced
 * when it dies: after a backoff on the same connection if only the channel
 * failed (a 404 or 406), by the connection's setup when the connection went.
 */
export class ChannelSlot<C extends Channel = Channel> extends EventEmitter<ChannelSlotEvents<C>> implements ConnectionParticipant {
  private current?: C
  /** the connection the current channel belongs to: a slot attaches once per connection */
  private model?: ChannelModel
  private stateNow = SlotState.Idle
  private started = false

  constructor(
    private readonly connection: BusConnection,
    private readonly spec: ChannelSlotSpec<C>
  ) {
    super()
  }

  get label(): string {
    return this.spec.label
  }

  get state(): SlotState {
    return this.stateNow
  }

  /** The open channel, if there is one now. */
  get channel(): C | undefined {
    return this.current
  }

  async start(): Promise<void> {
    this.started = true
    await this.connection.register(this)
  }

  async attach(model: ChannelModel): Promise<void> {
    if (!this.started || (this.model === model && this.current)) return
    this.stateNow = SlotState.Opening
    const channel = (this.spec.mode === 'confirm' ? await model.createConfirmChannel() : await model.createChannel()) as C
    channel.on('error', (err: Error) => this.spec.logger?.warn({ err: err.message, channel: this.label }, 'channel error'))
    channel.on('handler-error', () => {})
    channel.on('close', () => {
      if (this.current !== channel) return
      this.current = undefined
      this.stateNow = this.started ? SlotState.Lost : SlotState.Idle
      this.emit('lost', channel)
      // A channel error (not a lost connection, which setup handles) would otherwise end this slot's work for good.
      if (this.started) this.connection.reattach(this, model)
    })
    this.spec.prepare?.(channel)
    try {
      await this.spec.setup(channel)
    } catch (err) {
      await channel.close().catch(() => {})
      if (this.started) this.stateNow = SlotState.Lost
      throw err
    }
    if (!this.started) {
      await channel.close().catch(() => {})
      return
    }
    this.current = channel
    this.model = model
    this.stateNow = SlotState.Open
    this.emit('open', channel)
  }

  /**
   * Stops replacing the channel and hands the open one back to the owner, to
   * finish with it (cancel, wait for confirms) and close it with `close`.
   */
  detach(): C | undefined {
    this.started = false
    this.connection.unregister(this)
    const channel = this.current
    this.current = undefined
    this.model = undefined
    this.stateNow = SlotState.Idle
    return channel
  }

  /** Detaches and closes the channel. */
  async stop(): Promise<void> {
    await closeChannel(this.detach())
  }
}

export async function closeChannel(channel: Channel | ConfirmChannel | undefined): Promise<void> {
  await channel?.close().catch(() => {})
}
