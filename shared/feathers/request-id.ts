import type { Middleware } from '@feathersjs/koa'
import { assignRequestId } from '../http/front-door.ts'
import { runWithContext } from '../log/context.ts'
import { endRequestTrace, startRequestTrace } from './request-tracing.ts'

/**
 * Takes the client's X-Request-Id (or makes one: the rule of
 * shared/http/front-door.ts), returns it on the response and runs the request
 * inside a work context carrying it and the request's trace (its
 * `traceparent`, and its span when tracing is on), so log lines and outbox
 * events get both without being handed them.
 */
export function requestId(service: string): Middleware {
  return async (ctx, next) => {
    const id = assignRequestId(ctx.req.headers, ctx.res)
    ctx.feathers = { ...ctx.feathers, requestId: id }
    const trace = startRequestTrace(ctx.req, service)
    // the span, when there is one, is OpenTelemetry's active context for the request (shared/tracing/context-manager.ts)
    const work = { requestId: id, correlationId: id, traceparent: trace.traceparent, otel: trace.context }
    try {
      await runWithContext(work, next)
    } finally {
      endRequestTrace(trace.span, ctx.res)
    }
  }
}
