import { pino, type Logger } from 'pino'
import { currentContext } from './context.ts'

export type { Logger }

/**
 * Structured JSON logs. Each line carries the request, correlation and message
 * ids of the work it is about. Secrets are redacted by path, wherever they appear.
 */
export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env.LOG_LEVEL || (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'accessToken',
        '*.accessToken',
        'token',
        '*.token',
        'headers.authorization',
        '*.headers.authorization',
        'req.headers.authorization'
      ],
      censor: '[redacted]'
    },
    mixin() {
      const { requestId, correlationId, messageId } = currentContext()
      return { requestId, correlationId, messageId }
    }
  })
}
