import { COUNTRY_CHANGED } from '../../../../shared/contracts/reference.ts'
import { referenceManifest } from '../../entries.ts'
import { countryPath } from './countries.shared.ts'

/** `/countries`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const countryManifest = referenceManifest(countryPath, COUNTRY_CHANGED, 'country')
