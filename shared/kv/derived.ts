import { EventEmitter } from 'node:events'
import type { KvStoreEvents, KvView } from './store.ts'

/**
 * A store computed from others in the same process (the currencies of the
 * enabled countries, say): recomputed in the microtask after any of its
 * sources changed, so it is current as soon as they are (a snapshot part
 * that changes a thousand keys recomputes it once), and it tells its own
 * change events like a replicated store.
 */
export class DerivedStore<V> extends EventEmitter<KvStoreEvents<V>> implements KvView<V> {
  private values = new Map<string, V>()
  private dirty = false

  constructor(
    readonly name: string,
    sources: Array<KvView<any>>,
    private readonly compute: () => Map<string, V>,
    private readonly same: (a: V, b: V) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b)
  ) {
    super()
    this.setMaxListeners(0)
    for (const source of sources) source.on('change', () => this.invalidate())
    this.recompute()
  }

  get(key: string): V | undefined {
    this.flush()
    return this.values.get(key)
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  all(): V[] {
    this.flush()
    return [...this.values.values()]
  }

  private invalidate(): void {
    if (this.dirty) return
    this.dirty = true
    queueMicrotask(() => this.flush())
  }

  /** A read right after a source changed (same tick) sees the new value too. */
  private flush(): void {
    if (this.dirty) this.recompute()
  }

  private recompute(): void {
    this.dirty = false
    const previous = this.values
    this.values = this.compute()
    for (const [key, value] of this.values) {
      const before = previous.get(key)
      if (before === undefined || !this.same(before, value)) this.emit('change', key, value, before)
    }
    for (const [key, before] of previous) if (!this.values.has(key)) this.emit('change', key, undefined, before)
  }
}
