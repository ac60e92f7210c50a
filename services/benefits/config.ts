import { Type, type Static } from '@feathersjs/typebox'
import { retryConfigProperties } from '../../shared/feathers/consumer-config.ts'

export const benefitsConfigSchema = Type.Object(
  {
    /** WELCOME_POINTS: what a new account's balance opens with */
    welcomePoints: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 100 }),
    ...retryConfigProperties
  },
  { $id: 'BenefitsConfig', additionalProperties: false }
)
export type BenefitsConfig = Static<typeof benefitsConfigSchema>
