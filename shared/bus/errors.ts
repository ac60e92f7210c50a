/**
 * The bus's error hierarchy: one class, a string `code` per failure, so callers
 * branch on codes rather than on message text.
 */
export type BusErrorCode =
  | 'BROKER_UNREACHABLE'
  | 'CONNECTION_CLOSED'
  | 'CHANNEL_CLOSED'
  | 'PUBLISH_NACKED'
  | 'PUBLISH_TIMEOUT'
  | 'CONTRACT_VIOLATION'
  | 'UNKNOWN_ROUTING_KEY'
  | 'SHUTTING_DOWN'

export class BusError extends Error {
  readonly code: BusErrorCode

  constructor(code: BusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BusError'
    this.code = code
  }
}

export function isBusError(err: unknown, code?: BusErrorCode): err is BusError {
  return err instanceof BusError && (code === undefined || err.code === code)
}

/**
 * Thrown by a handler to say the message itself is wrong and retrying cannot
 * help: it is dead-lettered at once.
 */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PoisonMessageError'
  }
}
