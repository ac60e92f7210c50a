import type { Logger } from '../log/logger.ts'
import { BusConnection } from './connection.ts'
import { Consumer, type ConsumerSpec } from './consumer.ts'
import type { ConsumerKind } from './consumer-kind.ts'
import { ControlListener, controlExchangeSpec } from './control.ts'
import { LiveConsumer, type LiveConsumerSpec } from './live-consumer.ts'
import type { RoutingKey } from '../contracts/index.ts'
import type { ParkingDatabase } from './park-store.ts'
import { Publisher } from './publisher.ts'
import { StreamReader, type StreamReaderSpec } from './stream-reader.ts'
import { mergeTopologies, type Topology } from './topology.ts'

export interface BusOptions {
  url: string
  /** a cluster's brokers, tried in turn (BusConnectionOptions.urls); `readEnv().amqpUrls` */
  urls?: string[]
  namespace: string
  /** the service this bus belongs to: connection name and `appId` */
  service: string
  logger?: Logger
  confirmTimeoutMs?: number
  initialRetries?: number
  /** the service's database and schema: where partitioned consumers park keys */
  parking?: ParkingDatabase
}

/**
 * A service's whole view of the broker: one connection, one publisher, its
 * consumers. Shutdown order: stop consuming, finish in-flight work, close the
 * publisher, close the connection.
 */
export class Bus {
  readonly connection: BusConnection
  readonly publisher: Publisher
  /** the durable consumers: work queues shared by the service's instances */
  readonly consumers: Consumer[] = []
  /** the live consumers and stream readers: this process's own, started by their owners */
  readonly liveConsumers: ConsumerKind[] = []
  /** hears operator commands (skip) for this bus's consumers; there only when it has some */
  private control?: ControlListener

  constructor(readonly options: BusOptions) {
    this.connection = new BusConnection({
      url: options.url,
      urls: options.urls,
      name: `${options.namespace}.${options.service}`,
      logger: options.logger,
      initialRetries: options.initialRetries
    })
    this.publisher = new Publisher(this.connection, {
      namespace: options.namespace,
      appId: options.service,
      confirmTimeoutMs: options.confirmTimeoutMs,
      logger: options.logger
    })
  }

  get namespace(): string {
    return this.options.namespace
  }

  async start(): Promise<void> {
    await this.connection.connect()
    await this.publisher.start()
  }

  /** Declares a consumer; it starts consuming when `startConsumers()` runs (or at once if already started). */
  consumer(spec: ConsumerSpec): Consumer {
    const consumer = new Consumer(this.connection, this.publisher, spec, {
      namespace: this.options.namespace,
      logger: this.options.logger,
      parking: this.options.parking
    })
    this.consumers.push(consumer)
    return consumer
  }

  /** Declares a live consumer (the live kind); its owner starts it, the bus stops it at the latest on stop(). */
  live<K extends RoutingKey>(spec: Omit<LiveConsumerSpec<K>, 'namespace' | 'logger'>): LiveConsumer<K> {
    const consumer = new LiveConsumer<K>(this.connection, { ...spec, namespace: this.namespace, logger: this.options.logger })
    this.liveConsumers.push(consumer)
    return consumer
  }

  /** Declares a stream reader (the stream kind); its owner starts it, the bus stops it at the latest on stop(). */
  stream(spec: Omit<StreamReaderSpec, 'logger'>): StreamReader {
    const reader = new StreamReader(this.connection, { ...spec, logger: this.options.logger })
    this.liveConsumers.push(reader)
    return reader
  }

  async startConsumers(): Promise<void> {
    if (this.consumers.length === 0) return
    this.control ??= new ControlListener(this.connection, this.namespace, () => this.consumers, this.options.logger)
    await this.control.start()
    for (const consumer of this.consumers) await consumer.start()
  }

  /** The operator command listener, when this bus has consumers (tests await its 'command' events). */
  get controlListener(): ControlListener | undefined {
    return this.control
  }

  /** Everything this service declares on the broker (the per-connection control queue aside). */
  get topology(): Topology {
    const control = this.consumers.length > 0 ? [{ exchanges: [controlExchangeSpec(this.namespace)], queues: [], bindings: [] }] : []
    return mergeTopologies(this.publisher.topology, ...this.consumers.map((c) => c.topology), ...control)
  }

  async stop(): Promise<void> {
    await this.control?.stop()
    await Promise.all([...this.consumers, ...this.liveConsumers].map((c) => c.stop()))
    await this.publisher.close()
    await this.connection.close()
  }
}
