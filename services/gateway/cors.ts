import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from 'cors'
import { assignRequestId } from '../../shared/http/front-door.ts'
import type { RequestListener } from '../../shared/http/route.ts'

/**
 * Cross-origin access to the public origin: one policy, applied to every
 * response the gateway sends.
 *
 * `CORS_ORIGINS` (comma-separated origins such as `https://shop.example.com`)
 * lists the browser origins that may call the API. The default is empty: no
 * CORS headers at all, so only same-origin pages (the warehouse page) can read
 * answers. That is the safe default: a deployment opts in to the frontends it
 * trusts. A listed origin is reflected in `Access-Control-Allow-Origin` with
 * `Access-Control-Allow-Credentials: true` (so `fetch(..., { credentials:
 * 'include' })` and `EventSource(..., { withCredentials: true })` work) and
 * every response says `Vary: Origin`, since it differs by origin. `*` alone
 * opens the API to any origin, and then never with credentials (browsers refuse
 * `*` with credentials, and it would not be safe anyway). Bearer tokens in
 * `Authorization` need no credentials mode, only the allowed header.
 *
 * The policy is applied by the gateway's request listener in front of both the
 * SSE stream and Koa, so own, proxied and error responses and the stream all carry it;
 * the reverse proxy calls `keepGatewayCors` so an upstream service can neither
 * add nor drop any of it.
 */
export interface CorsPolicy {
  /** `CORS_ORIGINS=*`: any origin, without credentials */
  anyOrigin: boolean
  /** the listed origins, normalised (`scheme://host[:port]`, lower case) */
  origins: ReadonlySet<string>
}

/** Request headers a cross-origin client may send (the contract's, plus W3C trace context). */
export const allowedRequestHeaders = ['Authorization', 'Content-Type', 'Last-Event-ID', 'Idempotency-Key', 'X-Request-Id', 'traceparent', 'tracestate']
/** Response headers a cross-origin client may read, beyond the CORS-safelisted ones. */
export const exposedResponseHeaders = ['X-Request-Id', 'Retry-After', 'Location']
export const allowedMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
/** How long a browser may cache a preflight: short enough that a policy change takes effect soon. */
export const preflightMaxAgeSeconds = 600

/** Parses `CORS_ORIGINS`; throws on an entry that is not an origin, so a typo fails at start, not in a browser. */
export function corsPolicy(setting: string | undefined): CorsPolicy {
  const entries = (setting ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('CORS_ORIGINS: "*" cannot be combined with listed origins')
    return { anyOrigin: true, origins: new Set() }
  }
  const origins = new Set<string>()
  for (const entry of entries) {
    let url: URL | undefined
    try {
      url = new URL(entry)
    } catch {
      url = undefined
    }
    // `null` (sandboxed frames, file://) and anything with a path are refused: only real web origins can be trusted.
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== entry.toLowerCase().replace(/\/$/, '')) {
      throw new Error(`CORS_ORIGINS: "${entry}" is not an origin like https://shop.example.com`)
    }
    origins.add(url.origin)
  }
  return { anyOrigin: false, origins }
}

export const corsEnabled = (policy: CorsPolicy): boolean => policy.anyOrigin || policy.origins.size > 0

/** Adds `field` to a `Vary` value unless it is already named (or `*`). */
export function withVary(current: unknown, field: string): string {
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map((f) => f.trim()).filter(Boolean)
  if (fields.includes('*') || fields.some((f) => f.toLowerCase() === field.toLowerCase())) return fields.join(', ')
  return [...fields, field].join(', ')
}

/**
 * The middleware of the `cors` package for this policy: sets the headers of
 * an actual request and answers a preflight (204), or does nothing for an
 * origin not allowed (the request then goes on as if CORS were off).
 */
function corsMiddleware(policy: CorsPolicy) {
  const common = {
    methods: allowedMethods,
    allowedHeaders: allowedRequestHeaders,
    exposedHeaders: exposedResponseHeaders,
    maxAge: preflightMaxAgeSeconds,
    optionsSuccessStatus: 204
  }
  if (policy.anyOrigin) return cors({ ...common, origin: '*', credentials: false })
  return cors({
    ...common,
    credentials: true,
    origin: (origin, callback) => callback(null, origin !== undefined && policy.origins.has(origin))
  })
}

/**
 * The policy in front of `next` (the gateway's SSE endpoint and Koa): headers
 * set here stay on the response whoever writes it, since Koa, http-proxy-3
 * and better-sse all add to the headers already set. Preflights (`OPTIONS`)
 * from an allowed origin are answered here, for every path, and never reach a
 * service. Without a policy, `next` itself.
 */
export function corsFirst(policy: CorsPolicy, next: RequestListener): RequestListener {
  if (!corsEnabled(policy)) return next
  const middleware = corsMiddleware(policy)
  return (req: IncomingMessage, res: ServerResponse) => {
    // Whether an origin may read it or not, a listed-origins answer depends on Origin: caches must know.
    if (!policy.anyOrigin) res.setHeader('Vary', withVary(res.getHeader('Vary'), 'Origin'))
    // Every response carries X-Request-Id, the preflights answered here too (Koa sets it again if it gets the request).
    if (req.method === 'OPTIONS') assignRequestId(req.headers, res)
    middleware(req, res, () => next(req, res))
  }
}

/**
 * For http-proxy-3's `proxyRes` event, before it copies the upstream headers:
 * the gateway's CORS headers are the only ones (an upstream's are dropped),
 * and an upstream `Vary` is merged with the gateway's `Vary: Origin` rather
 * than replacing it.
 */
export function keepGatewayCors(proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse): void {
  for (const name of Object.keys(proxyRes.headers)) if (name.startsWith('access-control-')) delete proxyRes.headers[name]
  const ours = res.getHeader('Vary')
  if (ours === undefined || proxyRes.headers.vary === undefined) return
  let merged = proxyRes.headers.vary
  for (const field of String(ours).split(',').map((f) => f.trim()).filter(Boolean)) merged = withVary(merged, field)
  proxyRes.headers.vary = merged
}
