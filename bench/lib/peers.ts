import rascal from 'rascal'
import { Connection } from 'rabbitmq-client'
import type { Tracker } from './stats.ts'

const { BrokerAsPromised, withDefaultConfig } = rascal

/**
 * The clients people pick instead of plain amqplib, carrying the same
 * messages with the same guarantees as the plain amqplib line: publisher
 * confirms awaited per window of `confirmWindow`, persistent messages, manual
 * acks with the same prefetch, a publishing and a consuming connection.
 */
export interface PeerRun {
  url: string
  exchange: string
  queue: string
  routingKey: string
  n: number
  confirmWindow: number
  prefetch: number
  /**
   * rascal's confirm channels: it holds one channel per publish until that
   * publish is confirmed, so this pool's size is its confirm window (5 by default)
   */
  rascalConfirmChannels: number
  /** the ~1 KB JSON body */
  body: Buffer
  messageId(seq: number): string
  /** the headers plain amqplib sends (request, correlation ids, namespace) */
  headers(id: string): Record<string, string>
  appId: string
  tracker: Tracker
  /** the sequence number of a message id of this run, -1 for another run's */
  seqOf(id: string): number
  timeoutMs: number
}

/** Starts the clock, then publishes `run.n` messages, awaiting each window's confirms before the next, as the plain line does. */
async function publishInWindows(run: PeerRun, publish: (id: string) => Promise<void>): Promise<void> {
  run.tracker.start()
  for (let base = 0; base < run.n; base += run.confirmWindow) {
    const end = Math.min(run.n, base + run.confirmWindow)
    const window: Array<Promise<void>> = []
    for (let seq = base; seq < end; seq++) {
      run.tracker.sent(seq)
      window.push(publish(run.messageId(seq)))
    }
    await Promise.all(window)
  }
  run.tracker.allConfirmed()
}

/** rabbitmq-client 5: a confirming Publisher (no retries: a failure fails the run) and a Consumer acking when its handler resolves. */
export async function rabbitmqClientThroughput(run: PeerRun): Promise<void> {
  const { tracker } = run
  const publishing = new Connection({ url: run.url, connectionName: 'bench-rabbitmq-client-pub' })
  const consuming = new Connection({ url: run.url, connectionName: 'bench-rabbitmq-client-sub' })
  const consumer = consuming.createConsumer(
    // passive: the plain line declared the quorum queue; checked here, not declared again
    { queue: run.queue, queueOptions: { passive: true }, qos: { prefetchCount: run.prefetch }, concurrency: run.prefetch, requeue: true },
    async (message) => {
      // The body arrives parsed (application/json), as plain amqplib's consumer parses it.
      tracker.handledOne(run.seqOf(String(message.messageId)))
    }
  )
  // An error after setup (the run then ends on the tracker's timeout) is said, not thrown from an emitter.
  consumer.on('error', (err: Error) => console.error(`rabbitmq-client consumer: ${err.message}`))
  const publisher = publishing.createPublisher({ confirm: true, maxAttempts: 1 })
  try {
    await waitReady(consumer)
    await publishInWindows(run, (id) =>
      publisher.send(
        {
          exchange: run.exchange,
          routingKey: run.routingKey,
          durable: true,
          contentType: 'application/json',
          messageId: id,
          timestamp: Math.floor(Date.now() / 1000),
          type: run.routingKey,
          appId: run.appId,
          headers: run.headers(id)
        },
        run.body
      )
    )
    await tracker.wait(run.timeoutMs, 'rabbitmq-client')
  } finally {
    await consumer.close().catch(() => {})
    await publisher.close().catch(() => {})
    await consuming.close().catch(() => {})
    await publishing.close().catch(() => {})
  }
}

function waitReady(consumer: { once(event: 'ready', listener: () => void): unknown; once(event: 'error', listener: (err: Error) => void): unknown }): Promise<void> {
  return new Promise((resolve, reject) => {
    consumer.once('ready', () => resolve())
    consumer.once('error', reject)
  })
}

/**
 * rascal 21 (on amqplib): a confirming, persistent publication on one broker
 * and a subscription with the same prefetch on another, over the exchange and
 * quorum queue the plain line declared (checked, not declared again). Its
 * confirm window is its pool of confirm channels (`rascalConfirmChannels`).
 */
export async function rascalThroughput(run: PeerRun): Promise<void> {
  const { tracker } = run
  const vhost = (extra: object) => ({
    vhosts: {
      '/': {
        connection: { url: run.url },
        exchanges: { [run.exchange]: { assert: false, check: true } },
        queues: { [run.queue]: { assert: false, check: true } },
        publicationChannelPools: { confirmPool: { max: run.rascalConfirmChannels } },
        ...extra
      }
    }
  })
  const publishing = await BrokerAsPromised.create(
    withDefaultConfig(vhost({
      publications: {
        bench: { exchange: run.exchange, routingKey: run.routingKey, confirm: true, options: { persistent: true, contentType: 'application/json' } }
      }
    }))
  )
  const consuming = await BrokerAsPromised.create(
    withDefaultConfig(vhost({ subscriptions: { bench: { queue: run.queue, prefetch: run.prefetch } } }))
  )
  publishing.on('error', () => {})
  consuming.on('error', () => {})
  try {
    const subscription = await consuming.subscribe('bench')
    subscription.on('message', (message, _content, ackOrNack) => {
      // rascal has parsed the JSON content by now, as plain amqplib's consumer parses it
      tracker.handledOne(run.seqOf(String(message.properties.messageId)))
      ackOrNack()
    })
    subscription.on('error', () => {})
    await publishInWindows(run, (id) =>
      publishing
        .publish('bench', run.body, {
          options: { messageId: id, timestamp: Math.floor(Date.now() / 1000), type: run.routingKey, appId: run.appId, headers: run.headers(id) }
        })
        .then(
          (publication) =>
            new Promise<void>((resolve, reject) => {
              publication.on('success', () => resolve())
              publication.on('error', reject)
              publication.on('return', () => reject(new Error('rascal: message returned')))
            })
        )
    )
    await tracker.wait(run.timeoutMs, 'rascal')
  } finally {
    await consuming.shutdown().catch(() => {})
    await publishing.shutdown().catch(() => {})
  }
}
