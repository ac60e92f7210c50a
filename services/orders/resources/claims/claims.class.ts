import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions, type KnexAdapterParams } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Claim, ClaimData } from './claims.schema.ts'

export type ClaimParams = Params & Pick<KnexAdapterParams, 'paginate' | 'adapter'>

export class ClaimService extends KnexService<Claim, ClaimData, ClaimParams> {}

export function getOptions(app: ServiceApp): KnexAdapterOptions {
  return { Model: app.get('db'), schema: app.get('schema'), name: 'claims', id: 'id' }
}
