import { Type, type Static } from '@feathersjs/typebox'
import { retryConfigProperties } from '../../shared/feathers/consumer-config.ts'

const segmentName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })

/** A rule assigns its segment to a user who meets every condition it sets (a rule without conditions matches everyone). */
export const segmentRuleSchema = Type.Object(
  {
    segment: segmentName,
    role: Type.Optional(Type.Union([Type.Literal('buyer'), Type.Literal('seller'), Type.Literal('admin')])),
    /** the email's domain is one of these, or a subdomain of one */
    emailDomains: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1 }))
  },
  { $id: 'SegmentRule', additionalProperties: false }
)
export type SegmentRule = Static<typeof segmentRuleSchema>

export const defaultSegmentRules: SegmentRule[] = [
  { segment: 'merchants', role: 'seller' },
  { segment: 'partners', emailDomains: ['partners.bazaar.example'] }
]

export const segmentsConfigSchema = Type.Object(
  {
    /** SEGMENT_RULES: a JSON array of rules, tried in order, the first match wins */
    segmentRules: Type.Array(segmentRuleSchema, { maxItems: 100, default: defaultSegmentRules }),
    /** DEFAULT_SEGMENT: for users no rule matches */
    defaultSegment: Type.String({ ...segmentName, default: 'consumers' }),
    ...retryConfigProperties
  },
  { $id: 'SegmentsConfig', additionalProperties: false }
)
export type SegmentsConfig = Static<typeof segmentsConfigSchema>

/** SEGMENT_RULES as given; not JSON is one clear line at start, like every other bad setting. */
export function segmentRulesFromEnv(value: string | undefined): unknown {
  if (value === undefined || value.trim() === '') return undefined
  try {
    return JSON.parse(value)
  } catch (err) {
    throw new Error(`SEGMENT_RULES is not JSON (${(err as Error).message}); expected e.g. ${JSON.stringify(defaultSegmentRules)}`)
  }
}
