import type { BazaarEnv } from '../../shared/config/env.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { segmentRulesFromEnv, segmentsConfigSchema, type SegmentsConfig } from './config.ts'
import { userRegistrationsConsumer } from './consumers/user-registrations.ts'
import { migrations } from './migrations/index.ts'
import { segments } from './resources/segments/segments.ts'

/** segments: puts every new user in a segment by simple configurable rules (role, email domain). */
export function createApp(env?: BazaarEnv, config: Partial<SegmentsConfig> = {}): ServiceApp {
  const app = createServiceApp({
    service: 'segments',
    migrations,
    env,
    config: {
      schema: segmentsConfigSchema,
      values: {
        segmentRules: segmentRulesFromEnv(process.env.SEGMENT_RULES),
        defaultSegment: process.env.DEFAULT_SEGMENT,
        ...config
      }
    }
  })
  app.configure(segments)
  app.configure(userRegistrationsConsumer)
  return app
}
