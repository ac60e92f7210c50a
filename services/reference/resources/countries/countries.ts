import { COUNTRY_CHANGED, countryCodePattern, type Country } from '../../../../shared/contracts/reference.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { referenceResource } from '../../entries.ts'
import { countryDataValidator } from './countries.schema.ts'
import { countryManifest } from './countries.manifest.ts'
import { countryPath } from './countries.shared.ts'

export const countries = (app: ServiceApp) =>
  referenceResource<Country>(app, {
    path: countryPath,
    of: { store: 'countries', keyField: 'code' },
    manifest: countryManifest,
    routingKey: COUNTRY_CHANGED,
    keyPattern: countryCodePattern,
    dataValidator: countryDataValidator
  })
