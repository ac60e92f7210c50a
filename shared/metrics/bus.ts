import { Counter, Histogram, type Registry } from 'prom-client'
import type { Bus } from '../bus/bus.ts'
import type { Consumer } from '../bus/consumer.ts'
import type { Publisher } from '../bus/publisher.ts'
import { SECONDS_BUCKETS } from './registry.ts'
import { talliedCounter, type Tally } from './tally.ts'

type HistogramChild = ReturnType<Histogram['labels']>

/** The series one routing key moves on one consumer, made once: a message then costs a Map lookup, an addition and an observe. */
interface ConsumedChildren {
  handled: Tally
  retried: Tally
  deadLettered: Tally
  duration: HistogramChild
}

/**
 * Messages published, consumed by outcome, dead-lettered by kind, handler durations: counted from the
 * events the publisher and the consumers already emit (`confirmed`, `handled`, `retried`, ...), so the
 * bus itself holds no metric. Labels are the queue, the routing key, the outcome and the dead letter's
 * kind: bounded by the topology, never an id.
 */
export class BusMetrics {
  private readonly published: (...labels: string[]) => Tally
  private readonly consumed: (...labels: string[]) => Tally
  private readonly deadLettered: Counter
  private readonly duration: Histogram
  private readonly parkedTotal: Counter
  private readonly watched = new WeakSet<object>()

  constructor(registry: Registry) {
    const registers = [registry]
    this.published = talliedCounter({
      name: 'bazaar_messages_published_total',
      help: 'Messages the broker confirmed or returned, or whose publish failed, by routing key (a queue name for retries and dead letters)',
      labelNames: ['routing_key', 'outcome'],
      registers
    })
    this.consumed = talliedCounter({
      name: 'bazaar_messages_consumed_total',
      help: 'Deliveries settled by a durable consumer: handled, retried (sent round again) or dead_lettered',
      labelNames: ['queue', 'routing_key', 'outcome'],
      registers
    })
    this.deadLettered = new Counter({
      name: 'bazaar_messages_dead_lettered_total',
      help: 'Messages sent to a dead-letter queue, by why: handler, malformed, contract, skipped',
      labelNames: ['queue', 'routing_key', 'kind'],
      registers
    })
    this.duration = new Histogram({
      name: 'bazaar_handler_duration_seconds',
      help: 'Time one handler attempt took, failed attempts included',
      labelNames: ['queue', 'routing_key'],
      buckets: SECONDS_BUCKETS,
      registers
    })
    this.parkedTotal = new Counter({
      name: 'bazaar_keys_parked_total',
      help: 'Keys a partitioned consumer parked after their handler kept failing',
      labelNames: ['queue'],
      registers
    })
  }

  /** Counts what the bus's publisher and its durable consumers do from now on (consumers declared so far). */
  watch(bus: Bus): void {
    this.watchPublisher(bus.publisher)
    for (const consumer of bus.consumers) this.watchConsumer(consumer)
  }

  private watchPublisher(publisher: Publisher): void {
    if (this.watched.has(publisher)) return
    this.watched.add(publisher)
    const children = new Map<string, { routed: Tally; returned: Tally; failed: Tally }>()
    const of = (routingKey: string) => {
      let child = children.get(routingKey)
      if (!child) {
        child = { routed: this.published(routingKey, 'routed'), returned: this.published(routingKey, 'returned'), failed: this.published(routingKey, 'failed') }
        children.set(routingKey, child)
      }
      return child
    }
    publisher.on('confirmed', (routingKey, routed) => void (routed ? of(routingKey).routed : of(routingKey).returned).pending++)
    publisher.on('publish-failed', (routingKey) => void of(routingKey).failed.pending++)
  }

  private watchConsumer(consumer: Consumer): void {
    if (this.watched.has(consumer)) return
    this.watched.add(consumer)
    const queue = consumer.queue
    const children = new Map<string, ConsumedChildren>()
    const of = (routingKey: string): ConsumedChildren => {
      let child = children.get(routingKey)
      if (!child) {
        child = {
          handled: this.consumed(queue, routingKey, 'handled'),
          retried: this.consumed(queue, routingKey, 'retried'),
          deadLettered: this.consumed(queue, routingKey, 'dead_lettered'),
          duration: this.duration.labels(queue, routingKey)
        }
        children.set(routingKey, child)
      }
      return child
    }
    consumer.on('handled', (envelope, seconds) => {
      const child = of(envelope.routingKey)
      child.handled.pending++
      child.duration.observe(seconds)
    })
    consumer.on('handler-failed', (envelope, seconds) => of(envelope.routingKey).duration.observe(seconds))
    consumer.on('retried', ({ routingKey }) => void of(routingKey).retried.pending++)
    // The queue label is the consumer's, not the partition queue it came from; by kind is rare: no cached child.
    consumer.on('dead-lettered', (letter) => {
      of(letter.routingKey).deadLettered.pending++
      this.deadLettered.labels(queue, letter.routingKey, letter.kind).inc()
    })
    consumer.on('parked', () => this.parkedTotal.labels(queue).inc())
  }
}
