import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Segment, SegmentQuery } from './segments.schema.ts'

export type { Segment, SegmentQuery }

/** Segments by user id, assigned by the user-registrations consumer. */
export class SegmentService extends KnexService<Segment, Segment, Params<SegmentQuery>> {}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'segments',
  id: 'userId'
})
