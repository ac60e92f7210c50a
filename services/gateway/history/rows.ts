import type { PushedKey, RecordedEvent } from './audiences.ts'

/** The columns every history query selects, and the event they make. */
export const eventColumns = ['e.id', 'e.routing_key', 'e.payload', 'e.audiences'] as const

export function toEvent(row: { id: string | number; routing_key: string; payload: unknown; audiences: string[] }): RecordedEvent {
  return { id: Number(row.id), routingKey: row.routing_key as PushedKey, payload: row.payload as RecordedEvent['payload'], audiences: row.audiences }
}

/** Pages of at most this many rows: a replay or catch-up never loads the whole history at once. */
export const pageSize = 1_000
