import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Balance, BalanceQuery } from './balances.schema.ts'

export type { Balance, BalanceQuery }

/** Balances by user id, opened by the user-registrations consumer. */
export class BalanceService extends KnexService<Balance, Balance, Params<BalanceQuery>> {}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'balances',
  id: 'userId'
})
