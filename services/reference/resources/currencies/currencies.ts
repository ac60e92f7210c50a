import type { Currency } from '../../../../shared/contracts/reference.ts'
import { referenceStore } from '../../entries.ts'
import { currencyDataValidator } from './currencies.schema.ts'
import { currencyManifest } from './currencies.manifest.ts'

/** `/currencies`: anyone reads, admins upsert and remove; each write one change event with the key's next version. */
export const currencies = referenceStore<Currency>('currencies', currencyManifest, currencyDataValidator)
