import type { IncomingMessage } from 'node:http'
import type { CatalogConfig } from './config.ts'
import type { Iterator } from '../../shared/iterator/iterator.ts'

declare module '../../shared/feathers/declarations.ts' {
  interface ServiceConfigs {
    catalog: CatalogConfig
  }
  interface BazaarSettings {
    /** the catalog's iterator (bulk imports run on it) */
    iterator?: Iterator
  }
}

declare module '@feathersjs/feathers' {
  interface Params {
    /** POST /imports: the request, for its CSV body (set by the route's Koa middleware, resources/imports/imports.ts) */
    upload?: IncomingMessage
  }
}
