import { CURRENCY_CHANGED, currencyCodePattern, type Currency } from '../../../../shared/contracts/reference.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { referenceResource } from '../../entries.ts'
import { currencyDataValidator } from './currencies.schema.ts'
import { currencyManifest } from './currencies.manifest.ts'
import { currencyPath } from './currencies.shared.ts'

export const currencies = (app: ServiceApp) =>
  referenceResource<Currency>(app, {
    path: currencyPath,
    of: { store: 'currencies', keyField: 'code' },
    manifest: currencyManifest,
    routingKey: CURRENCY_CHANGED,
    keyPattern: currencyCodePattern,
    dataValidator: currencyDataValidator
  })
