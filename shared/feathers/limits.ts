/**
 * The largest request body any Bazaar service reads, in bytes (after
 * decompression at the service, as sent at the gateway). One figure for the
 * gateway and every service: the gateway refuses what a service would refuse,
 * so a client gets the 413 itself rather than a reset connection.
 */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * The one exception: a bulk product import (`POST /imports`, a CSV file) may
 * be up to 20 MB (contract.md, "Bulk product import").
 */
export const MAX_IMPORT_BODY_BYTES = 20 * 1024 * 1024

/** The body limit of a request, by its method and path (the query string ignored). */
export function bodyLimitFor(method: string | undefined, url: string | undefined): number {
  const path = (url ?? '').split('?')[0]!.replace(/\/+$/, '')
  return method === 'POST' && path === '/imports' ? MAX_IMPORT_BODY_BYTES : MAX_BODY_BYTES
}
