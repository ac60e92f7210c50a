import { AsyncLocalStorage } from 'node:async_hooks'
import type { Context } from '@opentelemetry/api'

/**
 * What is known about the work in progress: the HTTP request or the message
 * being handled. Carried implicitly (AsyncLocalStorage) so that log lines and
 * every event derived from the work get the same request id without plumbing.
 */
export interface WorkContext {
  requestId?: string
  correlationId?: string
  /** id of the message being handled: the causation id of what it emits */
  messageId?: string
  userId?: string
  /**
   * W3C trace context of the work: the HTTP request's span, or the span of the message being
   * handled; what the events it writes carry in their `traceparent` header (shared/tracing)
   */
  traceparent?: string
  /**
   * The OpenTelemetry context of the work while tracing is on (its span): kept in this one store rather
   * than in a second AsyncLocalStorage, since each store costs every promise of the process a propagation
   * (shared/tracing/context-manager.ts)
   */
  otel?: Context
}

const storage = new AsyncLocalStorage<WorkContext>()

/**
 * Runs `fn` in the current work's context with `context`'s values over it. Stores are never changed once
 * made, so outside any work `context` itself becomes the store, without a copy (a consumer does this for
 * every message): callers hand over a context they do not change afterwards.
 */
export function runWithContext<T>(context: WorkContext, fn: () => T): T {
  const outer = storage.getStore()
  return storage.run(outer === undefined ? context : { ...outer, ...context }, fn)
}

export function currentContext(): WorkContext {
  return storage.getStore() ?? {}
}
