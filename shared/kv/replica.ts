import { EventEmitter } from 'node:events'
import type { Bus } from '../bus/bus.ts'
import type { StreamMessage, StreamOffset, StreamReader } from '../bus/stream-reader.ts'
import type { BazaarEnv } from '../config/env.ts'
import { checkContract } from '../contracts/validate.ts'
import type { Logger } from '../log/logger.ts'
import { kvStreams, type KvChangeKey, type KvFeed, type KvStreams, type KvValue } from './feed.ts'
import { KvStore } from './store.ts'
import { KV_MESSAGE_HEADER, parse, readSnapshotPart, readSnapshotPointer, type SnapshotPointer } from './wire.ts'

export type KvStores<S extends Record<string, KvChangeKey>> = { [N in keyof S]: KvStore<KvValue<S[N]>> }

export interface KvReplicaOptions<S extends Record<string, KvChangeKey>> {
  feed: KvFeed<S>
  bus: Bus
  env: Pick<BazaarEnv, 'namespace' | 'kvStream'>
  /**
   * the feed's owner: with no snapshot yet (first start, or retention passed
   * every pointer by) it reads the data stream from its first message instead
   * of waiting for a snapshot only it can write
   */
  owner?: boolean
  /** bound on one catch-up (a probe read back); a slower one is tried again */
  catchUpTimeoutMs?: number
  logger?: Logger
}

export interface KvReplicaEvents {
  /** caught up with the stream (again): reads answer what the owner had published when it started catching up */
  ready: []
  /** (re)starting from a snapshot: at start, or because retention removed where this replica was */
  bootstrapping: [reason: string, pointer: SnapshotPointer | undefined]
  /** a change or a snapshot part at this offset was applied */
  applied: [offset: number]
  /** a message of the data stream that is neither a change of a store nor a snapshot part: left alone */
  ignored: [offset: number, reason: string]
  pointer: [pointer: SnapshotPointer]
  /** a change event was applied (newer than what was held): for measuring propagation from its `changedAt` */
  changed: [store: string, key: string, version: number, changedAt: string]
}

/**
 * A replica of a feed's stores in memory, fed from the broker only (see
 * docs/kv-stores.md). It reads the pointer stream to find the newest complete
 * snapshot, then the data stream from right after the offset that snapshot
 * was taken at: the snapshot's parts come later in that stream, and every
 * change from that offset on is read, whatever the order, since a store only
 * takes an entry newer than the one it holds. It is ready once the snapshot
 * is complete and a probe written after it has been read back. It re-bootstraps
 * (keeping what it holds) when retention removed the offset it was at.
 */
export class KvReplica<S extends Record<string, KvChangeKey>> extends EventEmitter<KvReplicaEvents> {
  readonly stores: KvStores<S>
  readonly streams: KvStreams
  private readonly byRoutingKey = new Map<string, KvStore<unknown>>()
  private readonly byName = new Map<string, KvStore<unknown>>()
  private readonly pointerReader: StreamReader
  private dataReader?: StreamReader
  private newest?: SnapshotPointer
  private readyNow = false
  /** each bootstrap gets a number: work of a superseded one stops */
  private generation = 0
  private stopped = false

  constructor(private readonly options: KvReplicaOptions<S>) {
    super()
    this.setMaxListeners(0)
    this.streams = kvStreams(options.feed, options.env)
    const stores: Record<string, KvStore<unknown>> = {}
    for (const [name, routingKey] of Object.entries(options.feed.stores)) {
      const store = new KvStore<unknown>(name)
      stores[name] = store
      this.byRoutingKey.set(routingKey, store)
      this.byName.set(name, store)
    }
    this.stores = stores as KvStores<S>
    this.pointerReader = options.bus.stream({
      label: `${options.feed.owner} kv pointers`,
      stream: this.streams.pointers,
      from: 'first',
      handle: (message) => this.takePointer(message)
    })
  }

  get ready(): boolean {
    return this.readyNow
  }

  /** The last offset of the data stream this replica has read. */
  get position(): number | undefined {
    return this.dataReader?.position
  }

  /** The newest complete snapshot the pointer stream announced. */
  get newestSnapshot(): SnapshotPointer | undefined {
    return this.newest
  }

  async start(): Promise<void> {
    await this.pointerReader.start()
    void this.bootstrap('start')
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.generation++
    this.readyNow = false
    await this.dataReader?.stop()
    await this.pointerReader.stop()
  }

  /** Resolves once the replica is ready (at once if it is), rejects after `timeoutMs`. */
  whenReady(timeoutMs = 30_000): Promise<void> {
    if (this.readyNow) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady)
        reject(new Error(`${this.options.feed.owner} kv stores not caught up after ${timeoutMs} ms`))
      }, timeoutMs)
      const onReady = () => {
        clearTimeout(timer)
        resolve()
      }
      this.once('ready', onReady)
    })
  }

  /** Resolves once everything written to the data stream before the call has been applied (the replica must be ready). */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    await this.whenReady(timeoutMs)
    await this.dataReader?.caughtUp({ timeoutMs })
  }

  /** Every entry held, tombstones included, and the offset the replica had read when it copied them: a snapshot's content. */
  contents(): { asOf: number | null; entries: Array<[string, string, number, unknown]> } {
    // Copied in one go, in one tick: no change is applied while this runs.
    const asOf = this.position ?? null
    const entries: Array<[string, string, number, unknown]> = []
    for (const [name, store] of this.byName) {
      for (const [key, entry] of store.entriesWithTombstones()) entries.push([name, key, entry.version, entry.value])
    }
    return { asOf, entries }
  }

  private async bootstrap(reason: string, stale?: SnapshotPointer): Promise<void> {
    const generation = ++this.generation
    this.readyNow = false
    const previous = this.dataReader
    this.dataReader = undefined
    await previous?.stop()
    const pointer = await this.pointerToStartFrom(generation, stale)
    if (generation !== this.generation) return
    this.emit('bootstrapping', reason, pointer)
    const from: StreamOffset = pointer?.asOf != null ? { after: pointer.asOf } : 'first'
    const parts = new Set<number>()
    const reader = this.options.bus.stream({
      label: `${this.options.feed.owner} kv`,
      stream: this.streams.data,
      bindings: this.streams.bindings,
      from,
      prefetch: 2000,
      handle: (message) => {
        if (generation === this.generation) this.take(message, pointer?.snapshotId, parts)
      }
    })
    this.dataReader = reader
    reader.on('gap', (expected, got) => {
      if (generation !== this.generation) return
      this.options.logger?.warn({ feed: this.options.feed.owner, expected, got }, 'kv stream retention passed this replica by; bootstrapping again')
      void this.bootstrap('retention passed this replica by', pointer)
    })
    await reader.start()
    await this.catchUp(generation, reader)
    if (generation !== this.generation) return
    if (pointer && parts.size < pointer.parts) {
      // A probe written after the snapshot's pointer came back before all its parts: retention took them.
      void this.bootstrap('snapshot no longer complete in the stream', pointer)
      return
    }
    this.readyNow = true
    this.emit('ready')
  }

  /** The newest pointer once the pointer stream has been read to its end; waits for a newer one than `stale`. */
  private async pointerToStartFrom(generation: number, stale?: SnapshotPointer): Promise<SnapshotPointer | undefined> {
    await this.catchUp(generation, this.pointerReader)
    const usable = () => (this.newest && (!stale || this.newest.snapshotId !== stale.snapshotId) ? this.newest : undefined)
    if (usable() || (this.options.owner && !stale)) return usable()
    if (this.options.owner) return undefined // retention passed every snapshot: the owner reads all that is left and reconciles
    while (generation === this.generation && !usable()) await new Promise((resolve) => this.once('pointer', resolve))
    return usable()
  }

  private async catchUp(generation: number, reader: StreamReader): Promise<void> {
    while (generation === this.generation && !this.stopped) {
      try {
        await reader.caughtUp({ timeoutMs: this.options.catchUpTimeoutMs ?? 60_000 })
        return
      } catch (err) {
        // a superseded bootstrap's reader was stopped: nothing to say
        if (generation === this.generation && !this.stopped) this.options.logger?.warn({ err: (err as Error).message }, 'kv stream catch-up is slow; probing again')
      }
    }
  }

  private takePointer(message: StreamMessage): void {
    const pointer = readSnapshotPointer(message.content)
    if (!pointer) return
    this.newest = pointer
    this.emit('pointer', pointer)
  }

  private take(message: StreamMessage, snapshotId: string | undefined, parts: Set<number>): void {
    if (message.headers[KV_MESSAGE_HEADER] === 'snapshot') {
      const part = readSnapshotPart(message.content)
      if (!part) return void this.emit('ignored', message.offset, 'not a snapshot part')
      for (const [name, key, version, value] of part.entries) this.byName.get(name)?.apply(key, version, value)
      if (part.snapshotId === snapshotId) parts.add(part.part)
      return void this.emit('applied', message.offset)
    }
    const store = this.byRoutingKey.get(message.routingKey)
    if (!store) return void this.emit('ignored', message.offset, `no store of this feed has routing key ${message.routingKey}`)
    const check = checkContract<KvChangeKey>(message.routingKey, parse(message.content))
    if (!check.ok) return void this.emit('ignored', message.offset, check.reason)
    const change: { key: string; version: number; value: unknown; changedAt: string } = check.payload
    if (store.apply(change.key, change.version, change.value)) this.emit('changed', store.name, change.key, change.version, change.changedAt)
    this.emit('applied', message.offset)
  }
}
