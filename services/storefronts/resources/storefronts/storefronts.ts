import { hooks as schemaHooks } from '@feathersjs/schema'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { StorefrontService } from './storefronts.class.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { storefrontQueryValidator, storefrontSchema } from './storefronts.schema.ts'
import { storefrontPath } from './storefronts.shared.ts'
import { storefrontManifest } from './storefronts.manifest.ts'

export * from './storefronts.class.ts'
export * from './storefronts.schema.ts'
export * from './storefronts.shared.ts'

/** `/storefronts`: open, read-only, from the projection. */
export function storefronts(app: ServiceApp): void {
  app.use(storefrontPath, new StorefrontService(app.get('db'), app.get('schema'), app.get('storefrontPages')), { ...serviceOptions(storefrontManifest), events: [] })
  app.service(storefrontPath).hooks({
    around: { all: [publicQuery(storefrontSchema)] },
    before: { all: [schemaHooks.validateQuery(storefrontQueryValidator)], get: [uuidId()] }
  })
}
