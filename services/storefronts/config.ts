import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

export const storefrontsConfigSchema = Type.Object(
  {
    /**
     * STOREFRONT_LOG_RETENTION: how long the event log keeps an event (`30d`, `48h`, ms by default);
     * 0, the default, keeps every event, which is what a rebuild from the start needs.
     */
    logRetentionMs: Type.Integer({ minimum: 0, default: 0 }),
    /** STOREFRONT_BATCH: log entries applied in one transaction at most */
    batchSize: Type.Integer({ minimum: 1, maximum: 5_000, default: 500 }),
    /** STOREFRONT_POLL_INTERVAL: how often an instance looks for a rebuild request it did not hear of (NOTIFY lost) */
    pollIntervalMs: Type.Integer({ minimum: 100, default: 5_000 }),
    /**
     * STOREFRONT_CACHE_TTL: how long a rendered page may answer at most. Commits drop the pages they
     * change at once (this instance's projector, NOTIFY from any instance); this bounds what a lost
     * notification could leave. 0 reads every page from the database.
     */
    cacheTtlMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 1_000 }),
    /** STOREFRONT_CACHE_ENTRIES: pages kept at most; past it the cache starts again empty */
    cacheEntries: Type.Integer({ minimum: 1, default: 20_000 })
  },
  { $id: 'StorefrontsConfig', additionalProperties: false }
)
export type StorefrontsConfig = Static<typeof storefrontsConfigSchema>

/** The settings from the environment, durations in the project's notation. */
export function storefrontsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return {
    logRetentionMs: durationMs(env.STOREFRONT_LOG_RETENTION),
    batchSize: env.STOREFRONT_BATCH,
    pollIntervalMs: durationMs(env.STOREFRONT_POLL_INTERVAL),
    cacheTtlMs: durationMs(env.STOREFRONT_CACHE_TTL),
    cacheEntries: env.STOREFRONT_CACHE_ENTRIES
  }
}
