/**
 * The largest request body any Bazaar service reads, in bytes (after
 * decompression at the service, as sent at the gateway). One figure for the
 * gateway and every service: the gateway refuses what a service would refuse,
 * so a client gets the 413 itself rather than a reset connection.
 */
export const MAX_BODY_BYTES = 1024 * 1024
