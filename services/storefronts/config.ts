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
    pollIntervalMs: Type.Integer({ minimum: 100, default: 5_000 })
  },
  { $id: 'StorefrontsConfig', additionalProperties: false }
)
export type StorefrontsConfig = Static<typeof storefrontsConfigSchema>

/** The settings from the environment, durations in the project's notation. */
export function storefrontsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return {
    logRetentionMs: durationMs(env.STOREFRONT_LOG_RETENTION),
    batchSize: env.STOREFRONT_BATCH,
    pollIntervalMs: durationMs(env.STOREFRONT_POLL_INTERVAL)
  }
}
