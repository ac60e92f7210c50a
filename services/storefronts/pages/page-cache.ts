import { createHash } from 'node:crypto'
import type { Storefront } from '../resources/storefronts/storefronts.schema.ts'

/** A storefront as it is sent: the JSON text once, its ETag, and the projection version it was read from. */
export interface Page {
  sellerId: string
  /** the response body, exactly as GET /storefronts/:sellerId sends it */
  body: string
  /** a strong ETag: a digest of `body`, so equal pages have equal tags whatever version they came from */
  etag: string
  /** the projection version the read took (the live one in its snapshot) */
  version: number
}

/** What the read statement answers: the storefront and the live version in the same snapshot; undefined for no storefront. */
export type PageRead = (sellerId: string) => Promise<{ storefront: Storefront; version: number } | undefined>

export interface PageCacheOptions {
  /** how long an entry may answer at most (the bound if every invalidation were lost); 0 turns the cache off */
  ttlMs: number
  /** entries kept at most: past it the cache starts again empty */
  maxEntries: number
  /** whether invalidations can reach this instance now (its LISTEN is in place); no entry answers or is kept otherwise */
  trusted?: () => boolean
}

interface Entry {
  page?: Page
  /** when the read that made the page started: an entry is as old as its snapshot, not its arrival */
  readAt: number
  /** the epoch of the last invalidation of this seller, kept while a read started before it may still be running */
  invalidated: number
}

/**
 * The rendered storefronts of this instance, by seller, invalidated when the
 * projection changes them (by this instance's projector after its commit,
 * by NOTIFY from any instance's commit, by a newer live version seen in a
 * read) and never older than `ttlMs` in any case.
 *
 * The rule that keeps a stale page out: every invalidation takes a new
 * epoch; a read notes the epoch when it starts and its page is kept only if
 * no invalidation of that seller (or of everything) came after. A read that
 * started before a commit may return the old page to its own caller, which
 * asked before the commit, but never leaves it behind for the next one.
 */
export class PageCache {
  private readonly entries = new Map<string, Entry>()
  private epoch = 0
  /** the epoch of the last invalidation of everything */
  private cleared = 0
  /** the newest live version a read has seen: a page of an older one is never kept */
  private liveVersion = 0
  /** the read of a seller others may wait on (one per seller and epoch) */
  private readonly loading = new Map<string, { epoch: number; promise: Promise<Page | undefined> }>()
  /** reads of a seller running now, shared or not: an invalidation leaves a mark for them */
  private readonly running = new Map<string, number>()
  private read?: PageRead
  hits = 0
  misses = 0

  constructor(private readonly options: PageCacheOptions) {}

  /** The read statement pages are loaded with: set once the resource is registered. */
  attach(read: PageRead): void {
    this.read = read
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && (this.options.trusted?.() ?? true)
  }

  /**
   * The seller's page: from memory while it is valid, else read (one read at
   * a time per seller and epoch: a burst of misses for the same seller waits
   * on one statement). Undefined: no storefront for that id.
   */
  async page(sellerId: string): Promise<Page | undefined> {
    if (!this.read) throw new Error('PageCache: no read statement attached')
    if (!this.enabled) return this.render(sellerId)
    const entry = this.entries.get(sellerId)
    if (entry?.page && performance.now() - entry.readAt < this.options.ttlMs) {
      this.hits++
      return entry.page
    }
    this.misses++
    const inFlight = this.loading.get(sellerId)
    // a read that started before the latest invalidation may answer with the old page: do not share it
    if (inFlight && inFlight.epoch === this.epoch) return inFlight.promise
    const epoch = this.epoch
    const promise = this.load(sellerId, epoch).finally(() => {
      if (this.loading.get(sellerId)?.promise === promise) this.loading.delete(sellerId)
    })
    this.loading.set(sellerId, { epoch, promise })
    return promise
  }

  /** These sellers' pages are out of date (a projection commit changed them, or may have). */
  invalidate(sellerIds: Iterable<string>): void {
    const epoch = ++this.epoch
    for (const sellerId of sellerIds) {
      // the mark matters only to a read already running; with none, forgetting the page is enough
      if (this.running.has(sellerId)) this.entries.set(sellerId, { readAt: 0, invalidated: epoch })
      else this.entries.delete(sellerId)
    }
  }

  /** Every page is out of date: a swap, a lost notification, too many entries. */
  clear(): void {
    this.cleared = ++this.epoch
    this.entries.clear()
  }

  get size(): number {
    let pages = 0
    for (const entry of this.entries.values()) if (entry.page) pages++
    return pages
  }

  private async load(sellerId: string, epoch: number): Promise<Page | undefined> {
    const readAt = performance.now()
    this.running.set(sellerId, (this.running.get(sellerId) ?? 0) + 1)
    let page: Page | undefined
    try {
      page = await this.render(sellerId)
    } finally {
      const left = this.running.get(sellerId)! - 1
      if (left === 0) this.running.delete(sellerId)
      else this.running.set(sellerId, left)
    }
    if (!page) return undefined
    if (page.version > this.liveVersion) {
      // a swap this instance had not heard of yet: every page kept is of the retired version
      if (this.liveVersion !== 0) this.clear()
      this.liveVersion = page.version
    }
    const entry = this.entries.get(sellerId)
    const stale = epoch < this.cleared || (entry !== undefined && entry.invalidated > epoch) || page.version < this.liveVersion
    if (!stale && this.enabled) {
      if (this.entries.size >= this.options.maxEntries && !entry) this.clear()
      // a mark left for another read still running stays with the page
      this.entries.set(sellerId, { page, readAt, invalidated: entry?.invalidated ?? 0 })
    }
    return page
  }

  private async render(sellerId: string): Promise<Page | undefined> {
    const found = await this.read!(sellerId)
    if (!found) return undefined
    const body = JSON.stringify(found.storefront)
    return { sellerId, body, etag: etagOf(body), version: found.version }
  }
}

/** A strong validator for a body: its SHA-1, base64url (27 characters), quoted as RFC 9110 wants. */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}
