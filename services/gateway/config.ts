import { Type, type Static } from '@feathersjs/typebox'

/** The gateway's own settings (validated at start): history retention, keep-alive, reconnect hint, client buffers. */
export const gatewayConfigSchema = Type.Object(
  {
    /** how long events stay replayable with Last-Event-ID, and unacknowledged receipts deliverable */
    retentionHours: Type.Number({ minimum: 0.001, default: 24 }),
    /** interval of the keep-alive comment on every stream */
    keepAliveMs: Type.Integer({ minimum: 100, default: 15_000 }),
    /** the `retry:` hint is this plus a random share of `retryJitterMs`, so reconnect storms spread out */
    retryMs: Type.Integer({ minimum: 0, default: 2_000 }),
    retryJitterMs: Type.Integer({ minimum: 0, default: 3_000 }),
    /** a client whose unsent bytes exceed this is disconnected rather than buffered without end */
    maxClientBufferBytes: Type.Integer({ minimum: 1_024, default: 262_144 }),
    /** how often the gateway looks for recorded events its live queue did not bring (reconnects) */
    catchUpIntervalMs: Type.Integer({ minimum: 50, default: 1_000 }),
    /** how long a proxied request may wait for its service */
    proxyTimeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
    /** open streams one user or appliance may have on one gateway instance; one more is a 429 */
    maxStreamsPerPrincipal: Type.Integer({ minimum: 1, default: 10 }),
    /** `CORS_ORIGINS`: browser origins allowed to call the API, comma-separated, or `*`; empty: no CORS (see cors.ts) */
    corsOrigins: Type.String({ default: '' })
  },
  { $id: 'GatewayConfig', additionalProperties: false }
)
export type GatewayConfig = Static<typeof gatewayConfigSchema>

/** Values from the process environment; unset ones take the schema's defaults. */
export function gatewayConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    retentionHours: vars.GATEWAY_RETENTION_HOURS,
    keepAliveMs: vars.GATEWAY_KEEPALIVE_MS,
    retryMs: vars.GATEWAY_RETRY_MS,
    retryJitterMs: vars.GATEWAY_RETRY_JITTER_MS,
    maxClientBufferBytes: vars.GATEWAY_MAX_CLIENT_BUFFER_BYTES,
    catchUpIntervalMs: vars.GATEWAY_CATCH_UP_INTERVAL_MS,
    proxyTimeoutMs: vars.GATEWAY_PROXY_TIMEOUT_MS,
    maxStreamsPerPrincipal: vars.GATEWAY_MAX_STREAMS_PER_PRINCIPAL,
    corsOrigins: vars.CORS_ORIGINS
  }
}
