import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Span } from '@opentelemetry/api'
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions'
import { startServerSpan, endSpan, ATTR_BAZAAR_SERVICE, type TracedWork } from '../tracing/spans.ts'

/**
 * An HTTP request's trace: a SERVER span when tracing is on, child of the
 * client's `traceparent`; always a `traceparent` for the work context (the
 * client's, or a new trace), so the events the request causes carry it.
 */
export function startRequestTrace(req: IncomingMessage, service: string): TracedWork {
  const method = req.method ?? 'GET'
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  const route = routeOf(path)
  return startServerSpan(`${method} ${route}`, req.headers.traceparent, {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: path,
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_BAZAAR_SERVICE]: service
  }, !unrecorded.has(path))
}

/** Prometheus scrapes and health probes: every few seconds on every service, and never the cause of an event. */
const unrecorded = new Set(['/metrics', '/health'])

/** Ends the request's span with its status; a 5xx marks it failed. */
export function endRequestTrace(span: Span | undefined, res: ServerResponse): void {
  if (!span) return
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode)
  endSpan(span, res.statusCode >= 500 ? new Error(`HTTP ${res.statusCode}`) : undefined)
}

/**
 * A low-cardinality name for the path (span names must not hold ids): its
 * first segment, the service's resource, and `/:id` when more follows.
 */
function routeOf(path: string): string {
  const segments = path.split('/').filter(Boolean)
  if (segments.length === 0) return '/'
  return `/${segments[0]}${segments.length > 1 ? '/:id' : ''}`
}
