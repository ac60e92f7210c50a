import type { Segment, SegmentService } from './segments.class.ts'

export type { Segment }

/** `GET /segments/:userId`: the segment a user belongs to. */
export const segmentPath = 'segments'

export const segmentMethods = ['get'] as const satisfies ReadonlyArray<keyof SegmentService>
