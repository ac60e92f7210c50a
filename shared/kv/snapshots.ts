import { randomUUID } from 'node:crypto'
import type { Publisher } from '../bus/publisher.ts'
import type { Logger } from '../log/logger.ts'
import type { KvChangeKey } from './feed.ts'
import type { KvReplica } from './replica.ts'
import { KV_MESSAGE_HEADER, SNAPSHOT_PART_ENTRIES, type SnapshotPart, type SnapshotPointer } from './wire.ts'

export interface KvSnapshotterOptions {
  /** a snapshot at least this often while anything changed (default 5 min) */
  intervalMs?: number
  /**
   * and as soon as this many messages were written since the newest snapshot,
   * or more when the stores hold more keys than that: the tail a bootstrapping
   * replica reads is never longer than its snapshot, whatever the history
   */
  minChanges?: number
  /**
   * runs the snapshot only while this instance holds a lock, so two instances
   * of the owner do not both write one (answers false when another holds it)
   */
  exclusively?: (work: () => Promise<void>) => Promise<boolean>
  logger?: Logger
}

/**
 * The owner's side of a feed: writes its own replica's contents into the data
 * stream as a snapshot in parts, then, once the broker confirmed every part, a
 * pointer to it in the pointer stream. The contents are those of a replica
 * that read the stream up to `asOf`, so a reader that starts right after
 * `asOf` and applies every part and change (newest version wins) ends with
 * exactly what the stream says, with no gap and nothing counted twice.
 */
export class KvSnapshotter<S extends Record<string, KvChangeKey>> {
  private timer?: NodeJS.Timeout
  private running?: Promise<SnapshotPointer | undefined>
  private readonly minChanges: number
  private readonly onApplied = () => this.maybe()
  /** the offset of the last snapshot this instance wrote (its pointer may not have been read back yet) */
  private writtenAsOf?: number

  constructor(
    private readonly replica: KvReplica<S>,
    private readonly publisher: Publisher,
    private readonly options: KvSnapshotterOptions = {}
  ) {
    this.minChanges = options.minChanges ?? 1000
  }

  start(): void {
    this.replica.on('applied', this.onApplied)
    this.replica.on('ready', this.onApplied)
    this.timer = setInterval(() => void this.take('interval').catch(() => {}), this.options.intervalMs ?? 300_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.replica.off('applied', this.onApplied)
    this.replica.off('ready', this.onApplied)
    clearInterval(this.timer)
    await this.running?.catch(() => {})
  }

  /** Messages written to the data stream since the newest snapshot's offset, as far as this replica has read. */
  changesSinceSnapshot(): number {
    const position = this.replica.position ?? -1
    const newest = this.replica.newestSnapshot
    if (!newest && this.writtenAsOf === undefined) return Number.POSITIVE_INFINITY
    return position - Math.max(newest?.asOf ?? -1, this.writtenAsOf ?? -1)
  }

  private maybe(): void {
    if (!this.replica.ready || this.running) return
    const keys = Object.values(this.replica.stores).reduce((sum, store) => sum + store.size, 0)
    if (this.changesSinceSnapshot() >= Math.max(this.minChanges, keys)) void this.take('changes').catch(() => {})
  }

  /** Takes a snapshot now, unless one is being taken, nothing changed since the newest, or another instance holds the lock. */
  take(reason: string): Promise<SnapshotPointer | undefined> {
    if (this.running) return this.running
    this.running = this.write(reason).finally(() => {
      this.running = undefined
      // changes that came while this one was written may already call for the next
      setImmediate(() => this.maybe())
    })
    return this.running
  }

  private async write(reason: string): Promise<SnapshotPointer | undefined> {
    if (!this.replica.ready) return undefined
    if (this.changesSinceSnapshot() <= 0) return undefined
    let pointer: SnapshotPointer | undefined
    const work = async () => {
      pointer = await this.publish()
    }
    if (this.options.exclusively) await this.options.exclusively(work)
    else await work()
    if (pointer) this.options.logger?.info({ reason, asOf: pointer.asOf, keys: pointer.keys, parts: pointer.parts }, 'kv snapshot written')
    return pointer
  }

  private async publish(): Promise<SnapshotPointer> {
    const { asOf, entries } = this.replica.contents()
    const snapshotId = randomUUID()
    const parts = Math.max(1, Math.ceil(entries.length / SNAPSHOT_PART_ENTRIES))
    const { data, pointers } = this.replica.streams
    const sends: Array<Promise<unknown>> = []
    for (let part = 0; part < parts; part++) {
      const body: SnapshotPart = { snapshotId, asOf, part, parts, entries: entries.slice(part * SNAPSHOT_PART_ENTRIES, (part + 1) * SNAPSHOT_PART_ENTRIES) }
      sends.push(this.send(data.name, body, `${snapshotId}.${part}`))
    }
    await Promise.all(sends)
    const pointer: SnapshotPointer = { snapshotId, asOf, parts, keys: entries.length, takenAt: new Date().toISOString() }
    await this.send(pointers.name, pointer, snapshotId)
    this.writtenAsOf = asOf ?? -1
    return pointer
  }

  private send(queue: string, body: unknown, messageId: string) {
    return this.publisher.publishRaw({
      exchange: '',
      routingKey: queue,
      body: Buffer.from(JSON.stringify(body)),
      properties: { messageId, contentType: 'application/json', persistent: true, headers: { [KV_MESSAGE_HEADER]: 'snapshot' } }
    })
  }
}
