import type { Knex } from 'knex'
import { PgListener } from '../../../shared/db/listener.ts'
import type { Logger } from '../../../shared/log/logger.ts'
import type { PageCache } from './page-cache.ts'

/** The NOTIFY channel on which a live projection commit names the storefronts it changed, for every instance. */
export const pagesChannel = (schema: string) => `${schema}_pages`

/** What a notification says: these sellers, or `*` for every page (a swap, or more sellers than a payload holds). */
export type Changed = string[] | '*'

/** PostgreSQL refuses a payload of 8,000 bytes or more; past this, one `*` says it all. */
const MAX_PAYLOAD = 7_000

/**
 * NOTIFY in the transaction that changed the pages: PostgreSQL delivers it
 * when (and only if) that transaction commits, so no instance drops a page
 * before the change is visible to the read that replaces it.
 */
export async function notifyChanged(trx: Knex.Transaction, schema: string, changed: Changed): Promise<void> {
  if (changed !== '*' && changed.length === 0) return
  let payload = changed === '*' ? '*' : JSON.stringify(changed)
  if (payload.length > MAX_PAYLOAD) payload = '*'
  await trx.raw('select pg_notify(?, ?)', [pagesChannel(schema), payload])
}

/**
 * This instance's ear for other instances' commits: each notification drops
 * the pages it names. Pages are answered only while the LISTEN is in place
 * (`listening`), and all of them are dropped when it is back after a loss:
 * a notification sent meanwhile is gone for good.
 */
export class PageInvalidations {
  private readonly listener: PgListener

  constructor(options: { databaseUrl: string; schema: string; cache: () => PageCache | undefined; logger?: Logger }) {
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: pagesChannel(options.schema),
      onNotification: (payload) => {
        const cache = options.cache()
        const sellers = payload === '*' ? undefined : parseSellers(payload)
        if (sellers) cache?.invalidate(sellers)
        else cache?.clear() // `*`, or a payload not understood: dropping everything is always right
      },
      onListening: () => options.cache()?.clear(),
      logger: options.logger
    })
  }

  get listening(): boolean {
    return this.listener.listening
  }

  start(): Promise<void> {
    return this.listener.start()
  }

  stop(): Promise<void> {
    return this.listener.stop()
  }
}

function parseSellers(payload: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(payload)
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
  } catch {
    return undefined
  }
}
