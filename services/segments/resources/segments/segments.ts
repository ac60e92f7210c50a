import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { userRecordHooks } from '../../../../shared/feathers/resources.ts'
import { SegmentService, getOptions } from './segments.class.ts'
import { segmentQueryValidator, segmentSchema } from './segments.schema.ts'
import { segmentMethods, segmentPath } from './segments.shared.ts'

export * from './segments.class.ts'
export * from './segments.schema.ts'
export * from './segments.shared.ts'

export const segments = (app: ServiceApp) => {
  app.use(segmentPath, new SegmentService(getOptions(app)), { methods: segmentMethods, events: [] })
  app.service(segmentPath).hooks(userRecordHooks(segmentQueryValidator))
  app.service(segmentPath).hooks({ around: { all: [publicQuery(segmentSchema)] } })
}
