import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { userRecordHooks } from '../../../../shared/feathers/resources.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { BalanceService, getOptions } from './balances.class.ts'
import { balanceQueryValidator, balanceSchema } from './balances.schema.ts'
import { balancePath } from './balances.shared.ts'
import { balanceManifest } from './balances.manifest.ts'

export * from './balances.class.ts'
export * from './balances.schema.ts'
export * from './balances.shared.ts'

export const balances = (app: ServiceApp) => {
  app.use(balancePath, new BalanceService(getOptions(app)), { ...serviceOptions(balanceManifest), events: [] })
  app.service(balancePath).hooks(userRecordHooks(balanceQueryValidator))
  app.service(balancePath).hooks({ around: { all: [publicQuery(balanceSchema)] } })
}
