import { EventEmitter } from 'node:events'

/** What a replica holds of one key: its version, and its value or `null` once deleted (a tombstone). */
export interface KvEntry<V> {
  version: number
  value: V | null
}

export interface KvStoreEvents<V> {
  /** a key's visible value changed: `value` undefined when it was deleted, `previous` undefined when it was new */
  change: [key: string, value: V | undefined, previous: V | undefined]
}

/** The reading side of a store, shared by replicated and derived stores. */
export interface KvView<V> extends EventEmitter<KvStoreEvents<V>> {
  get(key: string): V | undefined
  has(key: string): boolean
  /** every live (not deleted) value */
  all(): V[]
}

/**
 * One store of a replica, in memory: last value per key with its version.
 * `apply` takes an update only when it is newer than what it holds, so a
 * late, reordered or replayed update never rolls a value back, and a deletion
 * stays as a tombstone (with its version) so an older write cannot bring the
 * key back.
 */
export class KvStore<V> extends EventEmitter<KvStoreEvents<V>> implements KvView<V> {
  private readonly entries = new Map<string, KvEntry<V>>()
  private readonly versionWaiters = new Map<string, Array<{ version: number; resolve: () => void }>>()

  constructor(readonly name: string) {
    super()
    this.setMaxListeners(0)
  }

  /**
   * The live value of a key. With `atLeastVersion` (read-your-writes: the
   * version a write answered with) a promise of it once this replica holds at
   * least that version, rejected after `timeoutMs`.
   */
  get(key: string): V | undefined
  get(key: string, options: { atLeastVersion: number; timeoutMs?: number }): Promise<V | undefined>
  get(key: string, options?: { atLeastVersion: number; timeoutMs?: number }): V | undefined | Promise<V | undefined> {
    if (!options) return this.entries.get(key)?.value ?? undefined
    return this.waitFor(key, options.atLeastVersion, options.timeoutMs).then(() => this.entries.get(key)?.value ?? undefined)
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  all(): V[] {
    const values: V[] = []
    for (const entry of this.entries.values()) if (entry.value !== null) values.push(entry.value)
    return values
  }

  /** The version held for a key (tombstones included), 0 when never seen. */
  version(key: string): number {
    return this.entries.get(key)?.version ?? 0
  }

  /** Every key with its entry, tombstones included: what a snapshot writes. */
  entriesWithTombstones(): IterableIterator<[string, KvEntry<V>]> {
    return this.entries.entries()
  }

  /** keys held, tombstones included */
  get size(): number {
    return this.entries.size
  }

  /** Takes the update if it is newer than what is held; answers whether it did. */
  apply(key: string, version: number, value: V | null): boolean {
    const held = this.entries.get(key)
    if (held && held.version >= version) return false
    this.entries.set(key, { version, value })
    const previous = held?.value ?? undefined
    if (previous !== undefined || value !== null) this.emit('change', key, value ?? undefined, previous)
    this.releaseWaiters(key, version)
    return true
  }

  /** Resolves once this replica holds at least `version` of the key; rejects after `timeoutMs`. */
  waitFor(key: string, version: number, timeoutMs = 5_000): Promise<void> {
    if (this.version(key) >= version) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter = {
        version,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        }
      }
      const timer = setTimeout(() => {
        const list = this.versionWaiters.get(key)?.filter((w) => w !== waiter) ?? []
        if (list.length) this.versionWaiters.set(key, list)
        else this.versionWaiters.delete(key)
        reject(new Error(`${this.name}: ${key} not at version ${version} within ${timeoutMs} ms (holds ${this.version(key)})`))
      }, timeoutMs)
      this.versionWaiters.set(key, [...(this.versionWaiters.get(key) ?? []), waiter])
    })
  }

  private releaseWaiters(key: string, version: number): void {
    const waiting = this.versionWaiters.get(key)
    if (!waiting) return
    const still = waiting.filter((w) => w.version > version)
    for (const w of waiting) if (w.version <= version) w.resolve()
    if (still.length) this.versionWaiters.set(key, still)
    else this.versionWaiters.delete(key)
  }
}
