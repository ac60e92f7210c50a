import type { Knex } from 'knex'
import type { PushedKey, RecordedEvent } from './audiences.ts'

/** The columns every history query selects, and the event they make. */
export const eventColumns = ['e.id', 'e.routing_key', 'e.payload', 'e.audiences'] as const

export function toEvent(row: { id: string | number; routing_key: string; payload: unknown; audiences: string[] }): RecordedEvent {
  return { id: Number(row.id), routingKey: row.routing_key as PushedKey, payload: row.payload as RecordedEvent['payload'], audiences: row.audiences }
}

/** Pages of at most this many rows: a replay or catch-up never loads the whole history at once. */
export const pageSize = 1_000

/**
 * Every event a query matches, in id order, read page by page on the id (keyset): `query` filters the
 * events table aliased `e`; the id bound, order, page size and columns are added here.
 */
export async function allPages(query: () => Knex.QueryBuilder): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = []
  for (let cursor = 0; ; ) {
    const rows = await query().where('e.id', '>', cursor).orderBy('e.id').limit(pageSize).select(...eventColumns)
    const page = rows.map(toEvent)
    events.push(...page)
    if (page.length < pageSize) return events
    cursor = page[page.length - 1]!.id
  }
}
