import type { Country } from '../../../../shared/contracts/reference.ts'
import { referenceStore } from '../../entries.ts'
import { countryDataValidator } from './countries.schema.ts'
import { countryManifest } from './countries.manifest.ts'

/** `/countries`: anyone reads, admins upsert and remove; each write one change event with the key's next version. */
export const countries = referenceStore<Country>('countries', countryManifest, countryDataValidator)
