import { CURRENCY_CHANGED } from '../../../../shared/contracts/reference.ts'
import { referenceManifest } from '../../entries.ts'
import { currencyPath } from './currencies.shared.ts'

/** `/currencies`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const currencyManifest = referenceManifest(currencyPath, CURRENCY_CHANGED, 'currency')
