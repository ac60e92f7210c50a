/**
 * The ways this bus consumes a queue. Each kind is one class with this shape:
 * a state, typed events, and one `ChannelSlot` that opens, watches and
 * reattaches its channel and declares its topology again on every reattach.
 *
 * - `durable`: a quorum work queue shared by a service's instances, one
 *   message at a time to its handler, retries and dead letters (`Consumer`).
 * - `live`: a server-named exclusive queue per process, living as long as its
 *   connection, delivered in batches (`LiveConsumer`): for what each instance
 *   must hear itself, and where a restart may miss messages that a durable
 *   path makes up for.
 * - `stream`: a reader of a stream queue from an offset, one message at a
 *   time in offset order, resuming after the last one it handled
 *   (`StreamReader`): for replayable logs each reader reads in full.
 *
 * Kinds still to come take their place here the same way: partitioned
 * single-active-consumer queues (`partitioned`).
 */
export type ConsumerKindName = 'durable' | 'live' | 'partitioned' | 'stream'

export enum ConsumerState {
  /** declared, not started */
  Idle = 'idle',
  /** waiting for its channel and topology */
  Starting = 'starting',
  Consuming = 'consuming',
  /** its channel went; consuming again once a new one is set up */
  Reattaching = 'reattaching',
  /** stop() runs: no new deliveries, in-flight work finishing */
  Stopping = 'stopping',
  Stopped = 'stopped'
}

export interface ConsumerKind {
  readonly kind: ConsumerKindName
  readonly state: ConsumerState
  start(): Promise<void>
  stop(): Promise<void>
}
