import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { userRecordHooks } from '../../../../shared/feathers/resources.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { SegmentService, getOptions } from './segments.class.ts'
import { segmentQueryValidator, segmentSchema } from './segments.schema.ts'
import { segmentPath } from './segments.shared.ts'
import { segmentManifest } from './segments.manifest.ts'

export * from './segments.class.ts'
export * from './segments.schema.ts'
export * from './segments.shared.ts'

export const segments = (app: ServiceApp) => {
  app.use(segmentPath, new SegmentService(getOptions(app)), { ...serviceOptions(segmentManifest), events: [] })
  app.service(segmentPath).hooks(userRecordHooks(segmentQueryValidator))
  app.service(segmentPath).hooks({ around: { all: [publicQuery(segmentSchema)] } })
}
