import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { queryValidator } from '../../../../shared/feathers/validation.ts'

/** The segment a user was assigned when they registered. */
export const segmentSchema = Type.Object(
  {
    userId: Type.String({ format: 'uuid' }),
    segment: Type.String()
  },
  { $id: 'Segment', additionalProperties: false }
)
export type Segment = Static<typeof segmentSchema>

/** A segment is read by its user id alone: no query parameters. */
export const segmentQuerySchema = Type.Object({}, { $id: 'SegmentQuery', additionalProperties: false })
export type SegmentQuery = Static<typeof segmentQuerySchema>
export const segmentQueryValidator = getValidator(segmentQuerySchema, queryValidator)
