import { IMPORT_COMPLETED, IMPORT_PROGRESS, type EventPayload } from '../../../shared/contracts/index.ts'

/** A bulk import's notices: progress while it runs (rate limited by the catalog), and its completion, once. */
export const importRoutingKeys = [IMPORT_PROGRESS, IMPORT_COMPLETED] as const
export type ImportKey = (typeof importRoutingKeys)[number]
export const isImportKey = (key: string): key is ImportKey => (importRoutingKeys as readonly string[]).includes(key)

/** The seller who uploaded the import, and nobody else. */
export const importSellerOf = (payload: EventPayload<ImportKey>) => payload.sellerId

/** The notice as the seller's stream shows it: `{ kind, importId, status, total, done, failed }`. */
export function importNotice(key: ImportKey, payload: EventPayload<ImportKey>) {
  const { sellerId: _seller, ...rest } = payload
  return { name: 'notice', data: { kind: key, ...rest } }
}
